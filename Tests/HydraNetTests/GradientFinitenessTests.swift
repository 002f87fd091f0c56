@testable import HydraNet
import Testing
import Torch

/// The trainer's per-step gradient check (``Trainer/allFinite(_:)``): a sum settles the
/// common all-finite case, the elementwise check every other.
@Suite("gradient finiteness check")
struct GradientFinitenessTests {
    @Test("finite gradients pass; one NaN or infinity anywhere fails; huge finite values that overflow the sum pass")
    func allFinite() {
        let g = Generator(seed: 11)
        let finite = [Tensor.randn([64, 3, 7, 7], generator: g), Tensor.randn([512], generator: g)]
        #expect(Trainer.allFinite(finite))
        #expect(Trainer.allFinite([]))
        for bad in [Float.nan, .infinity, -.infinity] {
            let t = Tensor.randn([512], generator: g)
            t[137] = Tensor(Double(bad))
            #expect(!Trainer.allFinite(finite + [t]), "\(bad) was not found")
        }
        // +inf and -inf in different tensors: their sums cancel to NaN, still not finite.
        #expect(!Trainer.allFinite([Tensor([Float.infinity]), Tensor([-Float.infinity])]))
        // Finite, but the sum overflows to infinity: the elementwise check must clear it.
        let huge = Tensor([Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude])
        #expect(Trainer.allFinite([huge, huge]))
        #expect(!Trainer.allFinite([huge, Tensor([Float.nan])]))
    }
}
