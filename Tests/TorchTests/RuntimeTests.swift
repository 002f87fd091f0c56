import Foundation
import Testing
import Torch

@Suite("runtime")
struct RuntimeTests {
    @Test("threads can be read and set")
    func threads() {
        let original = Torch.numThreads
        #expect(original >= 1)
        Torch.numThreads = 1
        #expect(Torch.numThreads == 1)
        Torch.numThreads = original
        #expect(Torch.numThreads == original)
        #expect(Torch.numInteropThreads >= 1)
    }

    @Test("version is the pinned torch")
    func version() throws {
        let pinned = try String(contentsOf: PythonReference.packageRoot.appendingPathComponent("scripts/deps.env"),
                                encoding: .utf8)
        #expect(pinned.contains("TORCH_VERSION=\(Torch.version)"))
    }

    @Test("devices parse, and unavailable ones are refused with a message")
    func devices() throws {
        #expect(try Device(parsing: "cpu") == .cpu)
        #expect(throws: TorchError.self) { try Device(parsing: "tpu") }
        #expect(throws: TorchError.self) { try Device(parsing: "cuda:-1") }
        if !Device.isCUDAAvailable {
            #expect(throws: TorchError.self) { try Device(parsing: "cuda:0") }
            #expect(try Device(parsing: "auto") == .cpu)
        }
        #expect(Tensor.zeros([2]).device == .cpu)
    }

    @Test("raw bytes with the wrong size throw instead of trapping")
    func rawBytes() throws {
        let bytes: [UInt8] = [0, 0, 128, 63]
        try bytes.withUnsafeBytes { raw in
            let t = try Tensor(bytes: raw, shape: [1], dtype: .float32)
            #expect(t.scalars(as: Float.self) == [1])
            #expect(throws: TorchError.self) { try Tensor(bytes: raw, shape: [2], dtype: .float32) }
            #expect(throws: TorchError.self) { try Tensor(bytes: raw, shape: [-1, -4], dtype: .uint8) }
            #expect(throws: TorchError.self) { try Tensor(bytes: raw, shape: [Int.max, 4], dtype: .float32) }
        }
    }
}
