import Foundation

/// A confusion matrix as an inline-SVG heat map: rows are the true classes, columns the
/// predicted ones, each cell shaded by its share of its row (the recall of the diagonal)
/// and labelled with its count.
public struct ConfusionMatrixChart {
    public var title: String
    public var classes: [String]
    public var matrix: [[Int]]

    public init(title: String, classes: [String], matrix: [[Int]]) {
        self.title = title
        self.classes = classes
        self.matrix = matrix
    }

    /// The chart as a `<figure class="chart">`; every cell is an element of class `mark`.
    public func html() -> String {
        let n = classes.count
        let labelW = min(110.0, 14 + 7 * Double(classes.map(\.count).max() ?? 4))
        let cell = max(28.0, min(64.0, 360.0 / Double(max(n, 1))))
        let (left, top) = (labelW + 24, 40.0)
        let width = left + cell * Double(n) + 12, height = top + cell * Double(n) + 16
        func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\" "
            + "font-size=\"11\" font-family=\"system-ui,sans-serif\">"
        svg += "<text x=\"\(fmt(left + cell * Double(n) / 2))\" y=\"12\" text-anchor=\"middle\" fill=\"#1d2330\">predicted</text>"
        svg += "<text transform=\"translate(10 \(fmt(top + cell * Double(n) / 2))) rotate(-90)\" text-anchor=\"middle\" "
            + "fill=\"#1d2330\">true</text>"
        for (j, name) in classes.enumerated() {
            svg += "<text x=\"\(fmt(left + cell * (Double(j) + 0.5)))\" y=\"\(fmt(top - 8))\" text-anchor=\"middle\" "
                + "fill=\"#4a5366\">\(HTML.escape(String(name.prefix(9))))</text>"
        }
        for i in 0..<n {
            let row = i < matrix.count ? matrix[i] : []
            let total = row.reduce(0, +)
            svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(top + cell * (Double(i) + 0.5)))\" dy=\"3.5\" text-anchor=\"end\" "
                + "fill=\"#4a5366\">\(HTML.escape(String(classes[i].prefix(16))))</text>"
            for j in 0..<n {
                let count = j < row.count ? row[j] : 0
                let share = total > 0 ? Double(count) / Double(total) : 0
                // White to the palette's blue (diagonal) or red (errors).
                let (r, g, b) = i == j ? (78.0, 121.0, 167.0) : (225.0, 87.0, 89.0)
                let mix = { (c: Double) in Int((255 - (255 - c) * share).rounded()) }
                let fill = "rgb(\(mix(r)),\(mix(g)),\(mix(b)))"
                svg += "<g class=\"mark\"><title>true \(HTML.escape(classes[i])), predicted \(HTML.escape(classes[j])): "
                    + "\(count) (\(String(format: "%.0f", share * 100))% of the row)</title>"
                svg += "<rect x=\"\(fmt(left + cell * Double(j)))\" y=\"\(fmt(top + cell * Double(i)))\" width=\"\(fmt(cell))\" "
                    + "height=\"\(fmt(cell))\" fill=\"\(fill)\" stroke=\"#fff\"/>"
                svg += "<text x=\"\(fmt(left + cell * (Double(j) + 0.5)))\" y=\"\(fmt(top + cell * (Double(i) + 0.5)))\" dy=\"4\" "
                    + "text-anchor=\"middle\" fill=\"\(share > 0.55 ? "#fff" : "#1d2330")\">\(count)</text></g>"
            }
        }
        svg += "</svg>"
        return "<figure class=\"chart\" data-chart=\"\(HTML.escape(title))\"\(n == 0 ? " data-empty=\"true\"" : "")>"
            + "<figcaption>\(HTML.escape(title))</figcaption>\(svg)</figure>\n"
    }
}
