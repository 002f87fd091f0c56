// hydranet-leakcheck: measures whether memory stays flat, in its own process so that tests
// running in parallel cannot move the measurement (Tests/TorchTests/MemoryTests.swift and
// Tests/HydraNetTests/TrainingMemoryTests.swift run it).
//
//   hydranet-leakcheck tensors N   creates and frees a 1 MiB tensor N times, touching it and
//                                  going through an op and a view now and then
//   hydranet-leakcheck train N     N training steps (forward, backward, AdamW step) of a
//                                  ResNet-18 HydraNet with three tasks, after a warm-up
//   hydranet-leakcheck leak N      keeps N filled 256 KiB tensors: a leak the check must see
//
// It prints `rss_before_bytes`, `rss_growth_bytes` and `live_tensor_growth` (tensor handles
// alive after minus before: exactly 0 when nothing leaks), and exits 1 with a message when it
// cannot measure (no RssAnon in /proc/self/status, say): a check that cannot measure must not pass.
import Foundation
import HydraNet
import Torch
import TorchNN

/// glibc's `malloc_trim(0)`, looked up at run time (Swift's Glibc module does not export
/// it); a no-op where the C library has none.
func releaseFreeHeap() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}

/// Anonymous resident memory (`RssAnon` in /proc/self/status): the heap and other private
/// memory a leak grows. File-backed pages (libtorch's code, faulted in as new kernels first
/// run) are left out: they are not leaks and vary with what else the machine does.
///
/// Free heap memory is handed back to the kernel first (`malloc_trim`), so that the figure
/// counts memory still allocated rather than where the allocator's arenas happen to stand
/// (which moves by tens of MiB with thread timing when the machine is loaded).
func residentBytes() -> Int? {
    releaseFreeHeap()
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
          let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""), kb > 0 else {
        return nil
    }
    return kb * 1024
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hydranet-leakcheck: \(message)\n".utf8))
    exit(1)
}

/// Runs `warmUp` then `count` iterations of `body` and prints the three measurements.
///
/// The resident set is sampled after each of the last iterations of the warm-up and of the
/// measured run (a window of up to 25), and the peaks are compared: one snapshot each would
/// compare two points of the allocator's own ups and downs instead of a trend. Without the
/// trim in ``residentBytes()`` those moved the training figure by −10 to +27 MiB from run to
/// run on a loaded 2-core machine (a fresh-clone suite once failed on it); with it, by
/// under 0.2 MiB.
func measure(warmUp: Int, count: Int, _ body: (Int) throws -> Void) rethrows {
    let window = min(25, max(1, warmUp), count)
    var before = 0
    for i in 0..<warmUp {
        try body(i)
        if i >= warmUp - window {
            guard let rss = residentBytes() else { fail("cannot read RssAnon from /proc/self/status") }
            before = max(before, rss)
        }
    }
    if warmUp == 0 {
        guard let rss = residentBytes() else { fail("cannot read RssAnon from /proc/self/status") }
        before = rss
    }
    let handlesBefore = Torch.liveTensorHandles
    var after = 0
    for i in 0..<count {
        try body(warmUp + i)
        if i >= count - window {
            guard let rss = residentBytes() else { fail("cannot read RssAnon from /proc/self/status") }
            after = max(after, rss)
        }
    }
    print("rss_before_bytes \(before)")
    print("rss_growth_bytes \(after - before)")
    print("live_tensor_growth \(Torch.liveTensorHandles - handlesBefore)")
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2, let count = Int(arguments.last!), count > 0 else {
    fail("usage: hydranet-leakcheck tensors|train|leak COUNT")
}
switch arguments.first! {
case "tensors":
    let elements = 1 << 18  // 1 MiB of float32
    measure(warmUp: 1_000, count: count) { i in
        let t = Tensor.empty([elements])
        if i % 100 == 0 {
            let u = (t.fill_(1) + 1).reshaped([512, 512])[0]
            precondition(u.count == 512)
        }
    }
case "leak":
    // A deliberate leak (each 256 KiB tensor filled and kept): proves the check sees one.
    var held: [Tensor] = []
    measure(warmUp: 0, count: count) { _ in held.append(Tensor.empty([1 << 16]).fill_(1)) }
    precondition(held.count == count)
case "train":
    Torch.numThreads = 1
    let g = Generator(seed: 0)
    let tasks = [HydraTask(name: "age", kind: .regression, standardize: false), HydraTask(name: "gender", kind: .binary),
                 HydraTask(name: "race", kind: .multiclass(5))]
    let model = try HydraNetModel(backbone: ResNet(depth: .resnet18, numClasses: nil, generator: g), tasks: tasks,
                                  headDropout: 0.1, generator: g)
    var config = TrainingConfiguration()
    config.optimizer = .adamw
    let trainer = try Trainer(model: model, weighting: try WeightingFactory.make("uncertainty", tasks: tasks, source: nil),
                              configuration: config)
    let n = 4
    let batch = Batch(images: Tensor.randn([n, 3, 16, 16], generator: g),
                      labels: [Tensor.rand([n], generator: g) * 3, Tensor.randint(0, 2, [n], generator: g).to(dtype: .float32),
                               Tensor.randint(0, 5, [n], generator: g)],
                      masks: [Tensor.ones([n], dtype: .bool), Tensor.ones([n], dtype: .bool), Tensor([true, false, true, true])],
                      indices: Array(0..<n))
    try measure(warmUp: 50, count: count) { _ in
        let r = try trainer.step(batch, columns: [0, 1, 2])
        precondition(r.losses.allSatisfy { ($0 ?? 0).isFinite })
    }
default:
    fail("unknown mode '\(arguments.first!)': use tensors, train or leak")
}
