import Torch

extension Module {
    /// The explicit generators this module's random layers (dropout) draw from, each once,
    /// in module order. A trainer saves and restores their states so that a resumed run
    /// replays the same masks.
    public func randomGenerators() -> [Generator] {
        var seen: [ObjectIdentifier] = []
        var out: [Generator] = []
        for case let d as Dropout in modules() {
            guard let g = d.generator, !seen.contains(ObjectIdentifier(g)) else { continue }
            seen.append(ObjectIdentifier(g))
            out.append(g)
        }
        return out
    }

    /// Whether some random layer draws from libtorch's global generator (a dropout with no
    /// generator of its own and a non-zero rate).
    public var drawsFromGlobalGenerator: Bool {
        modules().contains { ($0 as? Dropout).map { $0.generator == nil && $0.p > 0 } ?? false }
    }

    /// Makes every random layer draw from `generator` (nil: the global generator).
    public func useGenerator(_ generator: Generator?) {
        for case let d as Dropout in modules() { d.generator = generator }
    }
}
