import Foundation
import Testing
import Torch

/// Resident set size of this process in bytes (Linux /proc).
private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite("memory")
struct MemoryTests {
    @Test("100,000 create/free cycles of a 1 MB tensor leave RSS flat")
    func noLeak() throws {
        let elements = 1 << 18  // 1 MiB of float32
        func cycle(_ i: Int) {
            let t = Tensor.empty([elements])
            if i % 100 == 0 {
                // Touch the memory and go through an op, a view and a read-back now and then.
                let u = (t.fill_(1) + 1).reshaped([512, 512])[0]
                precondition(u.count == 512)
            }
        }
        for i in 0..<1_000 { cycle(i) }
        let before = residentBytes()
        for i in 0..<100_000 { cycle(i) }
        let after = residentBytes()
        #expect(before > 0)
        #expect(after - before < 50 << 20, "RSS grew by \((after - before) >> 20) MiB")
    }
}
