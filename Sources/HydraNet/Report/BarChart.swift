import Foundation

/// A grouped bar chart as inline SVG: one group per category, one bar per series in each
/// group, optional error bars (± a value, e.g. one standard deviation over seeds). Bars start
/// at zero, so negative values (a bias, a Δm) go down.
public struct BarChart {
    public struct Series {
        public var name: String
        /// One value per group (nil: no bar).
        public var values: [Double?]
        /// One error per group (nil: no error bar).
        public var errors: [Double?]

        public init(_ name: String, values: [Double?], errors: [Double?] = []) {
            self.name = name
            self.values = values
            self.errors = errors
        }
    }

    public var title: String
    public var yLabel: String
    public var groups: [String]
    public var series: [Series]
    public var width = 560.0
    public var height = 300.0

    public init(title: String, yLabel: String, groups: [String], series: [Series]) {
        self.title = title
        self.yLabel = yLabel
        self.groups = groups
        self.series = series
    }

    private func value(_ s: Series, _ g: Int) -> Double? {
        g < s.values.count ? s.values[g].flatMap { $0.isFinite ? $0 : nil } : nil
    }

    private func error(_ s: Series, _ g: Int) -> Double? {
        g < s.errors.count ? s.errors[g].flatMap { $0.isFinite && $0 > 0 ? $0 : nil } : nil
    }

    /// The chart as a `<figure class="chart">`; every bar is an element of class `mark`.
    public func html() -> String {
        let (left, right, top, bottom) = (62.0, 16.0, 12.0, 54.0)
        let legendHeight = series.count > 1 ? Double((series.count + 2) / 3) * 16 : 0
        let plotW = width - left - right, plotH = height - top - bottom
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + legendHeight))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height + legendHeight))\" role=\"img\" aria-label=\"\(HTML.escape(title))\" "
            + "font-size=\"11\" font-family=\"system-ui,sans-serif\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"#fbfcfd\" stroke=\"#c9ced8\"/>"
        var extremes: [Double] = [0]
        for s in series {
            for g in groups.indices {
                guard let v = value(s, g) else { continue }
                let e = error(s, g) ?? 0
                extremes += [v - e, v + e]
            }
        }
        let hasData = series.contains { s in groups.indices.contains { value(s, $0) != nil } }
        guard hasData else {
            svg += "<text x=\"\(left + plotW / 2)\" y=\"\(top + plotH / 2)\" text-anchor=\"middle\" fill=\"#7a8294\">"
                + "no data yet</text></svg>"
            return figure(svg, empty: true)
        }
        let yt = AxisTicks.ticks(extremes.min()!, extremes.max()!, count: 5)
        func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
        func py(_ y: Double) -> Double { top + plotH - (y - yt.low) / max(yt.high - yt.low, 1e-300) * plotH }
        for t in yt.ticks {
            svg += "<line x1=\"\(left)\" y1=\"\(fmt(py(t)))\" x2=\"\(left + plotW)\" y2=\"\(fmt(py(t)))\" stroke=\"#eceef2\"/>"
            svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(py(t)))\" dy=\"3.5\" text-anchor=\"end\" fill=\"#4a5366\">"
                + "\(String(format: "%g", (t * 1e6).rounded() / 1e6))</text>"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(fmt(py(0)))\" x2=\"\(left + plotW)\" y2=\"\(fmt(py(0)))\" stroke=\"#6b7280\"/>"
        svg += "<text transform=\"translate(14 \(fmt(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#1d2330\">"
            + "\(HTML.escape(yLabel))</text>"
        let groupW = plotW / Double(max(groups.count, 1))
        let barW = min(48, groupW * 0.8 / Double(max(series.count, 1)))
        for (g, name) in groups.enumerated() {
            let center = left + groupW * (Double(g) + 0.5)
            let label = name.count > 18 ? String(name.prefix(17)) + "…" : name
            svg += "<text x=\"\(fmt(center))\" y=\"\(fmt(top + plotH + 15))\" text-anchor=\"middle\" fill=\"#1d2330\">"
                + "\(HTML.escape(label))</text>"
            let start = center - barW * Double(series.count) / 2
            for (k, s) in series.enumerated() {
                guard let v = value(s, g) else { continue }
                let x = start + barW * Double(k)
                let (y0, y1) = (py(max(v, 0)), py(min(v, 0)))
                let e = error(s, g)
                svg += "<g class=\"mark\"><title>\(HTML.escape(s.name.isEmpty ? name : "\(name), \(s.name)")): "
                    + "\(HTML.number(v))\(e.map { " ± \(HTML.number($0))" } ?? "")</title>"
                svg += "<rect x=\"\(fmt(x + 1))\" y=\"\(fmt(y0))\" width=\"\(fmt(max(barW - 2, 1)))\" "
                    + "height=\"\(fmt(max(y1 - y0, 0.5)))\" fill=\"\(ChartPalette.color(series.count > 1 ? k : g))\"/>"
                if let e {
                    let cx = fmt(x + barW / 2)
                    svg += "<path d=\"M\(cx),\(fmt(py(v - e)))L\(cx),\(fmt(py(v + e)))M\(fmt(x + barW / 2 - 5)),\(fmt(py(v + e)))"
                        + "L\(fmt(x + barW / 2 + 5)),\(fmt(py(v + e)))M\(fmt(x + barW / 2 - 5)),\(fmt(py(v - e)))"
                        + "L\(fmt(x + barW / 2 + 5)),\(fmt(py(v - e)))\" stroke=\"#1d2330\" stroke-width=\"1.2\" fill=\"none\"/>"
                }
                svg += "</g>"
            }
        }
        if series.count > 1 {
            for (k, s) in series.enumerated() {
                let x = left + Double(k % 3) * (plotW / 3), y = height + Double(k / 3) * 16 - 6
                svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y - 9))\" width=\"12\" height=\"10\" fill=\"\(ChartPalette.color(k))\"/>"
                svg += "<text x=\"\(fmt(x + 17))\" y=\"\(fmt(y))\" fill=\"#1d2330\">\(HTML.escape(s.name))</text>"
            }
        }
        svg += "</svg>"
        return figure(svg, empty: false)
    }

    private func figure(_ svg: String, empty: Bool) -> String {
        "<figure class=\"chart\" data-chart=\"\(HTML.escape(title))\"\(empty ? " data-empty=\"true\"" : "")>"
            + "<figcaption>\(HTML.escape(title))</figcaption>\(svg)</figure>\n"
    }
}
