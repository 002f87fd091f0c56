import Foundation

extension ComparisonResult {
    /// The table's header: method, each task's primary metric (↑ higher / ↓ lower is
    /// better), Δm%, Δp%, seconds per run.
    public var tableHeader: [String] {
        ["method"] + primaryMetrics.map { "\($0) \(higherIsBetter[$0] == false ? "↓" : "↑")" }
            + ["Δm% ↓", "Δp% ↑", "time/run (s)"]
    }

    /// The table's rows as text: mean ± std over seeds.
    public var tableRows: [[String]] {
        rows.map { row in
            [row.method + (row.seeds > 0 ? " (\(row.seeds))" : "")]
                + primaryMetrics.map { key in row.metrics[key].map { Self.format($0) } ?? "–" }
                + [row.deltaM.map { Self.format($0, signed: true, decimals: 2) } ?? "–",
                   row.deltaP.map { Self.format($0, signed: true, decimals: 2) } ?? "–",
                   Self.format(row.seconds, decimals: 1)]
        }
    }

    /// `mean ± std`, with decimals for the magnitude (3 below 10, else 2) unless given.
    public static func format(_ s: SeedStatistic, signed: Bool = false, decimals: Int? = nil) -> String {
        guard s.mean.isFinite else { return "–" }
        let d = decimals ?? (abs(s.mean) < 10 ? 3 : 2)
        // A mean that rounds to zero prints as 0, never "-0.00".
        let mean = abs(s.mean) < 0.5 * pow(10, -Double(d)) ? 0 : s.mean
        return String(format: signed ? "%+.\(d)f ± %.\(d)f" : "%.\(d)f ± %.\(d)f", mean, s.std)
    }

    /// The table as Markdown, columns padded so that it also reads as plain text.
    public var table: String {
        let all = [tableHeader] + tableRows
        let widths = tableHeader.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return c == 0 ? text + pad : pad + text
            }.joined(separator: " | ") + " |"
        }
        let rule = "|" + widths.enumerated().map { c, w in c == 0 ? String(repeating: "-", count: w + 2)
            : String(repeating: "-", count: w + 1) + ":" }.joined(separator: "|") + "|"
        return ([line(tableHeader), rule] + tableRows.map(line)).joined(separator: "\n")
    }

    /// `compare.md`: the table and what its numbers mean.
    public var markdown: String {
        let seeds = rows.map(\.seeds).max() ?? 0
        return """
        # HydraNet comparison

        \(table)

        Test metrics of the best-validation epoch, mean ± standard deviation over \(seeds) seed\(seeds == 1 ? "" : "s") \
        (the number of seeds in brackets). Δm% (paper convention, lower is better) and Δp% (LibMTL's, higher is better) \
        average the relative change of **all** test metrics of every task against the baseline: \(baselineSource). \
        Single-task: one model per task, each scored on its own task (its Δm is the seed-to-seed noise around the \
        baseline); its time is that of all its task models together. Time: training with its validation passes (the sum of the epochs' wall times).

        """
    }
}
