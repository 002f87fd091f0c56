import Foundation

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The tensor printed as PyTorch prints it, e.g. `tensor([[1., 2.],\n        [3., 4.]])`:
    /// 4 decimals (or scientific notation for wide ranges), `...` past 1000 elements, and
    /// the dtype, device and `requires_grad` where PyTorch shows them.
    public var description: String { TensorPrinter(self).render() }
    public var debugDescription: String { description }
}

/// Formats tensor values with the rules of `torch/_tensor_str.py` (default print options).
private struct TensorPrinter {
    let tensor: Tensor
    let threshold = 1000
    let edgeItems = 3
    let lineWidth = 80

    init(_ tensor: Tensor) { self.tensor = tensor }

    func render() -> String {
        let prefix = "tensor("
        var suffixes: [String] = []
        let shape = tensor.shape
        let cpu = tensor.detached().to(device: .cpu)
        let summarize = cpu.count > threshold
        var body: String
        if cpu.count == 0 && shape.count > 0 {
            body = "[]"
            if shape != [0] { suffixes.append("size=(\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : ""))") }
        } else {
            let shown = summarize ? summarized(cpu) : cpu
            let format = makeFormatter(shown)
            body = render(cpu, format: format, indent: prefix.count, summarize: summarize)
        }
        let defaultDType: Set<DType> = [.float32, .int64, .bool]
        if !defaultDType.contains(tensor.dtype) { suffixes.append("dtype=\(tensor.dtype)") }
        if tensor.device != .cpu { suffixes.insert("device='\(tensor.device)'", at: 0) }
        if tensor.requiresGrad { suffixes.append("requires_grad=True") }
        return prefix + body + suffixes.map { ", " + $0 }.joined() + ")"
    }

    /// The elements that will be printed (edges only when summarising), flattened.
    private func summarized(_ t: Tensor) -> Tensor {
        if t.rank == 0 { return t }
        var parts: [Tensor] = []
        let n = t.size(0)
        let rows = n > 2 * edgeItems ? Array(0..<edgeItems) + Array(n - edgeItems..<n) : Array(0..<n)
        for r in rows { parts.append(summarized(t[r]).flattened()) }
        return parts.isEmpty ? t.flattened() : Tensor.cat(parts)
    }

    private func makeFormatter(_ shown: Tensor) -> (Tensor) -> [String] {
        let dtype = shown.dtype
        if dtype == .bool {
            return { t in t.scalars(as: Bool.self).map { $0 ? "True" : "False" } }
        }
        if !dtype.isFloatingPoint {
            return { t in t.scalars(as: Int64.self).map { String($0) } }
        }
        let values = shown.scalars(as: Double.self)
        let finite = values.filter { $0.isFinite && $0 != 0 }.map { Swift.abs($0) }
        var intMode = true
        var sciMode = false
        if let lo = finite.min(), let hi = finite.max() {
            intMode = finite.allSatisfy { $0.rounded(.up) == $0 }
            if intMode {
                sciMode = hi > 1e8
            } else {
                sciMode = hi / lo > 1000 || hi > 1e8 || lo < 1e-4
            }
        }
        return { t in
            t.scalars(as: Double.self).map { v in
                if v.isNaN { return "nan" }
                if v.isInfinite { return v < 0 ? "-inf" : "inf" }
                if sciMode { return String(format: "%.4e", v) }
                if intMode { return String(format: "%.0f.", v) }
                return String(format: "%.4f", v)
            }
        }
    }

    private func render(_ t: Tensor, format: (Tensor) -> [String], indent: Int, summarize: Bool) -> String {
        let shownValues = summarize ? summarized(t) : t.flattened()
        let strings = format(shownValues)
        let width = strings.map(\.count).max() ?? 0
        var iterator = strings.makeIterator()
        return renderLevel(shape: t.shape, level: 0, indent: indent, width: width, summarize: summarize, next: &iterator)
    }

    private func renderLevel(shape: [Int], level: Int, indent: Int, width: Int, summarize: Bool,
                             next: inout IndexingIterator<[String]>) -> String {
        if shape.isEmpty {
            return (next.next() ?? "").leftPadded(to: width)
        }
        let n = shape[level]
        let elide = summarize && n > 2 * edgeItems
        let rows = elide ? Array(0..<edgeItems) + [-1] + Array(n - edgeItems..<n) : Array(0..<n)
        if level == shape.count - 1 {
            var items: [String] = rows.map { $0 < 0 ? "...".leftPadded(to: width) : (next.next() ?? "").leftPadded(to: width) }
            // Wrap long rows at the line width like PyTorch.
            let perLine = Swift.max(1, (lineWidth - indent) / (width + 2))
            if items.count > perLine && !elide {
                var lines: [String] = []
                while !items.isEmpty {
                    lines.append(items.prefix(perLine).joined(separator: ", "))
                    items.removeFirst(Swift.min(perLine, items.count))
                }
                return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
            }
            return "[" + items.joined(separator: ", ") + "]"
        }
        let separator = "," + String(repeating: "\n", count: shape.count - level - 1)
            + String(repeating: " ", count: indent + level + 1)
        let parts = rows.map { r -> String in
            r < 0 ? "..." : renderLevel(shape: shape, level: level + 1, indent: indent, width: width,
                                         summarize: summarize, next: &next)
        }
        return "[" + parts.joined(separator: separator) + "]"
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
