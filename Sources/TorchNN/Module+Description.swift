import Foundation
import Torch

extension Module: CustomStringConvertible {
    /// The module tree as PyTorch's `print(model)` shows it.
    public var description: String {
        let children = namedChildren
        guard !children.isEmpty else { return "\(typeName)(\(extraDescription))" }
        var lines = ["\(typeName)(" + (extraDescription.isEmpty ? "" : extraDescription)]
        for (name, child) in children {
            let text = child.description.replacingOccurrences(of: "\n", with: "\n  ")
            lines.append("  (\(name)): \(text)")
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }
}

/// `(a, b)` as PyTorch prints a pair.
func pair(_ p: (Int, Int)) -> String { "(\(p.0), \(p.1))" }

/// A Double as Python prints it (`1e-05`, `0.1`, `1.0`).
func pythonFloat(_ v: Double) -> String {
    if v == v.rounded(), Swift.abs(v) < 1e16 { return String(format: "%.1f", v) }
    let exp = Int(Foundation.floor(Foundation.log10(Swift.abs(v))))
    if exp < -4 {
        let mantissa = v / Foundation.pow(10, Double(exp))
        let m = mantissa == mantissa.rounded() ? String(Int(mantissa)) : "\(mantissa)"
        return "\(m)e-\(String(format: "%02d", -exp))"
    }
    return "\(v)"
}
