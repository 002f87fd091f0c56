import Foundation

/// The colours of chart series (Tableau 10, readable on white), assigned in order.
public enum ChartPalette {
    public static let colors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public static func color(_ index: Int) -> String { colors[((index % colors.count) + colors.count) % colors.count] }
}

/// Round tick values for an axis over `[low, high]` (about `count` of them: steps of 1, 2 or
/// 5 × 10ᵏ), and the range widened to the outer ticks.
enum AxisTicks {
    static func ticks(_ low: Double, _ high: Double, count: Int = 5) -> (ticks: [Double], low: Double, high: Double) {
        var (lo, hi) = (low, high)
        if !lo.isFinite || !hi.isFinite { (lo, hi) = (0, 1) }
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let raw = (hi - lo) / Double(max(count, 1))
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? raw
        let first = floor(lo / step) * step, last = ceil(hi / step) * step
        var ticks: [Double] = []
        var v = first
        while v <= last + step * 1e-9 && ticks.count < 50 {
            ticks.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return (ticks, first, last)
    }
}
