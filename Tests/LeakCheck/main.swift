// hydranet-leakcheck: creates and frees a 1 MB tensor N times (default 100,000), touching it
// and going through an op and a view now and then, and prints the resident-set growth in
// bytes as `rss_growth_bytes <n>`. Run by Tests/TorchTests/MemoryTests.swift in its own
// process, so that other tests running in parallel cannot move the measurement.
import Foundation
import Torch

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let cycles = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 100_000 : 100_000
let elements = 1 << 18  // 1 MiB of float32
func cycle(_ i: Int) {
    let t = Tensor.empty([elements])
    if i % 100 == 0 {
        let u = (t.fill_(1) + 1).reshaped([512, 512])[0]
        precondition(u.count == 512)
    }
}
for i in 0..<1_000 { cycle(i) }
let before = residentBytes()
for i in 0..<cycles { cycle(i) }
let after = residentBytes()
print("rss_before_bytes \(before)")
print("rss_growth_bytes \(after - before)")
