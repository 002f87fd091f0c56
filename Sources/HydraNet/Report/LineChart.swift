import Foundation

/// A line chart as inline SVG: several named series of (x, y) points, axes with round
/// ticks, an optional log-scale y axis and a legend. Points that are not finite (or not
/// positive on a log axis) are left out, so the SVG never holds a NaN coordinate.
public struct LineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Dashed line (e.g. validation next to training).
        public var dashed: Bool
        /// Draw a dot at each point (few points, e.g. one per epoch).
        public var markers: Bool
        /// Palette index (``ChartPalette``); nil: the series' position.
        public var color: Int?

        public init(_ name: String, _ points: [(x: Double, y: Double)], dashed: Bool = false, markers: Bool = false,
                    color: Int? = nil) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.markers = markers
            self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logY = false
    /// Fixed y range (e.g. −1…1 for cosines); nil fits the data.
    public var yRange: ClosedRange<Double>?
    public var width = 560.0
    public var height = 300.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false,
                yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
        self.yRange = yRange
    }

    /// The series' drawable points.
    private func visible(_ s: Series) -> [(x: Double, y: Double)] {
        s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
    }

    /// The chart as a `<figure class="chart">` holding the SVG. Each drawn series is an
    /// element of class `mark`; a chart without any data says so (and has no `mark`).
    public func html() -> String {
        let drawn = series.enumerated().map { (i, s) in (i, s, visible(s)) }.filter { !$0.2.isEmpty }
        let (left, right, top, bottom) = (62.0, 16.0, 12.0, 44.0)
        let legendRows = drawn.isEmpty ? 0 : (drawn.count + 2) / 3
        let legendHeight = Double(legendRows) * 16 + (legendRows > 0 ? 8 : 0)
        let plotW = width - left - right, plotH = height - top - bottom
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + legendHeight))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height + legendHeight))\" role=\"img\" aria-label=\"\(HTML.escape(title))\" "
            + "font-size=\"11\" font-family=\"system-ui,sans-serif\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"#fbfcfd\" stroke=\"#c9ced8\"/>"
        guard !drawn.isEmpty else {
            svg += "<text x=\"\(left + plotW / 2)\" y=\"\(top + plotH / 2)\" text-anchor=\"middle\" fill=\"#7a8294\">"
                + "no data yet</text></svg>"
            return figure(svg, empty: true)
        }
        let all = drawn.flatMap(\.2)
        let xs = all.map(\.x)
        let xt = AxisTicks.ticks(xs.min()!, xs.max()!, count: 6)
        let f: (Double) -> Double = logY ? { log10($0) } : { $0 }
        let ys = all.map { f($0.y) }
        var yLow = ys.min()!, yHigh = ys.max()!
        if let r = yRange { (yLow, yHigh) = (f(r.lowerBound), f(r.upperBound)) }
        let yt: (ticks: [Double], low: Double, high: Double)
        if logY {
            let lo = floor(yLow), hi = max(ceil(yHigh), lo + 1)
            yt = (Array(stride(from: lo, through: hi, by: max(1, ((hi - lo) / 5).rounded(.up)))), lo, hi)
        } else if yRange != nil {
            let t = AxisTicks.ticks(yLow, yHigh, count: 4)
            yt = (t.ticks.filter { $0 >= yLow - 1e-12 && $0 <= yHigh + 1e-12 }, yLow, yHigh)
        } else {
            yt = AxisTicks.ticks(yLow, yHigh, count: 5)
        }
        func px(_ x: Double) -> Double { left + (x - xt.low) / max(xt.high - xt.low, 1e-300) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (f(y) - yt.low) / max(yt.high - yt.low, 1e-300) * plotH }
        func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
        // Grid and ticks.
        for t in xt.ticks {
            let x = fmt(left + (t - xt.low) / max(xt.high - xt.low, 1e-300) * plotW)
            svg += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(top + plotH)\" stroke=\"#eceef2\"/>"
            svg += "<text x=\"\(x)\" y=\"\(fmt(top + plotH + 14))\" text-anchor=\"middle\" fill=\"#4a5366\">\(tickLabel(t))</text>"
        }
        for t in yt.ticks {
            let y = fmt(top + plotH - (t - yt.low) / max(yt.high - yt.low, 1e-300) * plotH)
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotW)\" y2=\"\(y)\" stroke=\"#eceef2\"/>"
            let label = logY ? tickLabel(pow(10, t)) : tickLabel(t)
            svg += "<text x=\"\(fmt(left - 6))\" y=\"\(y)\" dy=\"3.5\" text-anchor=\"end\" fill=\"#4a5366\">\(label)</text>"
        }
        svg += "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(fmt(top + plotH + 32))\" text-anchor=\"middle\" fill=\"#1d2330\">"
            + "\(HTML.escape(xLabel))</text>"
        svg += "<text transform=\"translate(14 \(fmt(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#1d2330\">"
            + "\(HTML.escape(yLabel))</text>"
        if !logY, yt.low < 0, yt.high > 0 {
            let y = fmt(py(0))
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotW)\" y2=\"\(y)\" stroke=\"#9aa1ad\" stroke-width=\"1\"/>"
        }
        // Series.
        for (i, s, points) in drawn {
            let color = ChartPalette.color(s.color ?? i)
            let sorted = points.sorted { $0.x < $1.x }
            let d = sorted.enumerated().map { (k, p) in (k == 0 ? "M" : "L") + fmt(px(p.x)) + "," + fmt(py(p.y)) }.joined()
            svg += "<g class=\"mark\" data-series=\"\(HTML.escape(s.name))\"><title>\(HTML.escape(s.name))</title>"
            if sorted.count > 1 {
                svg += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\""
                    + (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>"
            }
            if s.markers || sorted.count == 1 {
                for p in sorted {
                    svg += "<circle cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"3\" fill=\"\(color)\">"
                        + "<title>\(HTML.escape(s.name)): \(HTML.number(p.y)) at \(HTML.number(p.x))</title></circle>"
                }
            }
            svg += "</g>"
        }
        // Legend below the plot, three entries a row.
        for (k, (i, s, _)) in drawn.enumerated() {
            let x = left + Double(k % 3) * (plotW / 3), y = height + Double(k / 3) * 16 + 8
            let color = ChartPalette.color(s.color ?? i)
            svg += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y - 4))\" x2=\"\(fmt(x + 18))\" y2=\"\(fmt(y - 4))\" stroke=\"\(color)\" "
                + "stroke-width=\"2.5\"" + (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>"
            svg += "<text x=\"\(fmt(x + 23))\" y=\"\(fmt(y))\" fill=\"#1d2330\">\(HTML.escape(s.name))</text>"
        }
        svg += "</svg>"
        return figure(svg, empty: false)
    }

    private func figure(_ svg: String, empty: Bool) -> String {
        "<figure class=\"chart\" data-chart=\"\(HTML.escape(title))\"\(empty ? " data-empty=\"true\"" : "")>"
            + "<figcaption>\(HTML.escape(title))</figcaption>\(svg)</figure>\n"
    }

    private func tickLabel(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 || abs(v) < 1e-3 { return String(format: "%.0e", v) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }
}
