import Foundation

/// `compare.html`: a ``ComparisonResult`` on one self-contained page: the table, bars per
/// task and method (± std over seeds), Δm with error bars, training time per method and
/// the validation curves of every method overlaid.
public struct CompareReport {
    public var result: ComparisonResult
    public var title: String

    public init(_ result: ComparisonResult, title: String) {
        self.result = result
        self.title = title
    }

    public func html() -> String {
        let r = result
        let methods = r.rows.map(\.method)
        var body = "<h1>HydraNet comparison: \(HTML.escape(title))</h1>\n"
        body += "<p class=\"explain\">Several ways of training one multi-task model (the <em>weighting methods</em>), "
            + "each trained with several random seeds, and — as the reference — one separate model per task "
            + "(<em>single-task</em>). Every number is measured on the test images, with the model of the epoch that "
            + "did best on validation; bars and ± show the mean and standard deviation over seeds.</p>\n"
        body += HTML.section("table", "Results", explanation: "↑: higher is better; ↓: lower is better. Δm% averages the "
            + "relative change of all test metrics against the baseline (\(HTML.escape(r.baselineSource))): negative "
            + "means the multi-task model beats one model per task. Δp% is LibMTL's variant (positive is better).",
            HTML.table(r.tableHeader, r.tableRows.map { $0.map(HTML.escape) }))
        var bars = ""
        for key in r.primaryMetrics {
            let stats = r.rows.map { $0.metrics[key] }
            bars += BarChart(title: "\(key) (\(r.higherIsBetter[key] == false ? "lower" : "higher") is better)", yLabel: key,
                             groups: methods, series: [.init("", values: stats.map { $0?.mean }, errors: stats.map { $0?.std })])
                .html()
        }
        body += HTML.section("tasks", "Each task, per method", explanation: "The headline test metric of every task.",
                             "<div class=\"grid\">\(bars)</div>")
        let dm = r.rows.map(\.deltaM)
        let time = r.rows.map(\.seconds)
        body += HTML.section("summary", "Δm and training time", explanation: "Δm% per method against the baseline (lower "
            + "is better; error bars: ± one standard deviation over seeds), and the training time of one run "
            + "(single-task: all its task models).", "<div class=\"grid\">"
            + BarChart(title: "Δm % (lower is better)", yLabel: "Δm %", groups: methods,
                       series: [.init("", values: dm.map { $0?.mean }, errors: dm.map { $0?.std })]).html()
            + BarChart(title: "training time per run", yLabel: "seconds", groups: methods,
                       series: [.init("", values: time.map(\.mean), errors: time.map(\.std))]).html()
            + "</div>")
        var curves = ""
        for (t, task) in r.tasks.enumerated() {
            let key = t < r.primaryMetrics.count ? r.primaryMetrics[t] : task
            let series = r.rows.enumerated().map { i, row in
                LineChart.Series(row.method, (row.validationCurves[task] ?? []).enumerated().map { (x: Double($0 + 1), y: $1) },
                                 markers: true, color: i)
            }
            curves += LineChart(title: "\(key) on validation", xLabel: "epoch", yLabel: key, series: series).html()
        }
        body += HTML.section("curves", "Learning curves", explanation: "Each task's headline metric on the validation "
            + "images after every epoch, averaged over seeds, one line per method.", "<div class=\"grid\">\(curves)</div>")
        body += HTML.section("runs", "Runs", explanation: "Every run folder; each holds its own <code>report.html</code>.",
                             HTML.table(["method", "task", "seed", "folder", "time (s)"], r.runs.map { run in
                                 [HTML.escape(run.method), HTML.escape(run.task ?? "all"), "\(run.seed)",
                                  "<a href=\"\(HTML.escape(relative(run.folder)))/report.html\">\(HTML.escape(run.folder))</a>",
                                  String(format: "%.1f", run.seconds)]
                             }))
        return HTML.page(title: "HydraNet comparison: \(title)", body: body)
    }

    /// A run folder relative to the comparison's folder (the page's links work when moved).
    private func relative(_ folder: String) -> String {
        folder.hasPrefix(title + "/") ? String(folder.dropFirst(title.count + 1)) : folder
    }
}
