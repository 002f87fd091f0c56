import Foundation
import Torch

/// `report.html`: one training run on one self-contained page (inline SVG and CSS, nothing
/// loaded from anywhere), readable without knowing HydraNet. ``ExperimentRun`` rewrites it
/// after every epoch (so a running job can be looked at) and once more with the test results.
public struct RunReport {
    /// The final evaluation of the selected (best) model on the test split.
    public struct TestResults {
        public var metrics: [MetricValue]
        public var details: [TaskEvaluation]
        public var epoch: Int?

        public init(metrics: [MetricValue], details: [TaskEvaluation], epoch: Int?) {
            self.metrics = metrics
            self.details = details
            self.epoch = epoch
        }
    }

    public var title: String
    /// Setting → value, in display order.
    public var configuration: [(String, String)]
    /// Task names in model order, with their kinds (`regression`, `binary`, …).
    public var tasks: [(name: String, kind: String)]
    public var totalEpochs: Int
    public var history: RunHistory
    public var test: TestResults?
    /// What Δm is measured against (a baseline file or the first epoch's validation results).
    public var deltaReference: String
    /// Whether the weighting combines gradients (the gradient-geometry section applies).
    public var gradientMethod: Bool
    public var generated = Date()

    public init(title: String, configuration: [(String, String)], tasks: [(name: String, kind: String)], totalEpochs: Int,
                history: RunHistory, test: TestResults?, deltaReference: String, gradientMethod: Bool) {
        self.title = title
        self.configuration = configuration
        self.tasks = tasks
        self.totalEpochs = totalEpochs
        self.history = history
        self.test = test
        self.deltaReference = deltaReference
        self.gradientMethod = gradientMethod
    }

    /// Writes the page crash-safely (``AtomicFile``).
    public func write(to path: String) throws {
        try AtomicFile.write(Data(html().utf8), to: path)
    }

    public func html() -> String {
        var body = header()
        body += configurationSection()
        body += lossSection()
        body += validationSection()
        body += weightsSection()
        if gradientMethod || history.steps.contains(where: { !$0.cosines.isEmpty }) { body += geometrySection() }
        body += deltaSection()
        body += testSection()
        return HTML.page(title: "HydraNet report: \(title)", body: body)
    }

    private var names: [String] { tasks.map(\.name) }

    private func header() -> String {
        let done = history.epochs.count
        let status = test != nil ? "<span class=\"status done\">finished: \(done) epochs, tested</span>"
            : "<span class=\"status\">training: epoch \(done) of \(totalEpochs) done</span>"
        let stamp = ISO8601DateFormatter().string(from: generated)
        var html = "<h1>HydraNet run report: \(HTML.escape(title))</h1>\n<p>\(status) <span class=\"muted\">page written \(stamp); "
            + "reload to see later epochs</span></p>\n"
        html += "<p class=\"explain\">One neural network learned several tasks at once: a shared <em>backbone</em> turns each "
            + "image into features, and one small <em>head</em> per task (" + tasks.map { "<b>\(HTML.escape($0.name))</b>, "
                + "\(HTML.escape($0.kind))" }.joined(separator: "; ")
            + ") makes that task's prediction. The tasks' losses are combined by a <em>weighting method</em> into one "
            + "training signal. The data is split into <em>train</em> (learned from), <em>validation</em> (checked after "
            + "each epoch, picks the best epoch) and <em>test</em> (scored once at the end, on the best epoch's model).</p>\n"
        if let best = history.epochs.last(where: \.isBest) {
            html += "<p>Best epoch so far: <b>\(best.epoch)</b>"
                + (best.deltaM.map { " (validation Δm \(String(format: "%+.2f", $0))%)" } ?? "") + ".</p>\n"
        }
        return html
    }

    private func configurationSection() -> String {
        HTML.section("configuration", "Run configuration",
                     explanation: "The settings this run was started with (as <code>hydranet train</code> flags set them).",
                     HTML.table(["setting", "value"], configuration.map { [HTML.escape($0.0), HTML.escape($0.1)] },
                                cssClass: "kv"))
    }

    private func lossSection() -> String {
        var charts = ""
        for (t, name) in names.enumerated() {
            let perStep = history.steps.compactMap { s in s.losses[name].map { (x: s.position, y: $0) } }
            let train = history.epochs.compactMap { e in e.trainLosses[name].map { (x: Double(e.epoch), y: $0) } }
            let validation = history.epochs.compactMap { e in e.validation?.losses[name].map { (x: Double(e.epoch), y: $0) } }
            charts += LineChart(title: "\(name): loss", xLabel: "epoch", yLabel: "loss", series: [
                .init("train (batches)", perStep, color: t),
                .init("train (epoch mean)", train, markers: true, color: 7),
                .init("validation", validation, dashed: true, markers: true, color: 2),
            ]).html()
        }
        return HTML.section("losses", "Loss per task",
                            explanation: "How wrong the model is on each task (lower is better). The thin line follows "
                                + "training batches, the dots are whole-epoch means; the dashed line is the validation "
                                + "loss. Validation rising while training falls means the model is over-fitting.",
                            "<div class=\"grid\">\(charts)</div>")
    }

    private func validationSection() -> String {
        var charts = ""
        var keys: [String] = []
        for name in names {
            let metricNames = orderedMetricNames(task: name)
            keys += metricNames.map { "\(name)/\($0)" }
            let series = metricNames.enumerated().map { i, metric in
                LineChart.Series(metric, history.epochs.compactMap { e in e.validation?["\(name)/\(metric)"].map {
                    (x: Double(e.epoch), y: $0)
                } }, markers: true, color: i)
            }
            charts += LineChart(title: "\(name): validation metrics", xLabel: "epoch", yLabel: "value", series: series).html()
        }
        let rows = history.epochs.map { e in
            ["\(e.epoch)\(e.isBest ? " ★" : "")"] + keys.map { HTML.number(e.validation?[$0]) }
        }
        let directions = keys.map { key in
            history.epochs.lazy.compactMap { $0.validation?.metrics.first { $0.key == key } }.first
                .map { $0.higherIsBetter ? "\(key) ↑" : "\(key) ↓" } ?? key
        }
        return HTML.section("validation", "Validation metrics per epoch",
                            explanation: "Each task's scores on the validation images after every epoch (↑: higher is "
                                + "better, e.g. accuracy and F1; ↓: lower is better, e.g. MAE, the mean absolute error). "
                                + "★ marks the epoch whose model is kept as <code>best.safetensors</code>.",
                            "<div class=\"grid\">\(charts)</div>" + HTML.table(["epoch"] + directions, rows))
    }

    private func orderedMetricNames(task: String) -> [String] {
        var seen: [String] = []
        for e in history.epochs {
            for m in e.validation?.metrics ?? [] where m.task == task && !seen.contains(m.name) { seen.append(m.name) }
        }
        return seen
    }

    private func weightsSection() -> String {
        var series = names.enumerated().map { t, name in
            LineChart.Series(name, history.steps.compactMap { s in s.weights[name].map { (x: s.position, y: $0) } }, color: t)
        }
        if series.allSatisfy(\.points.isEmpty) {
            series = names.enumerated().map { t, name in
                LineChart.Series(name, history.epochs.compactMap { e in e.weights[name].map { (x: Double(e.epoch), y: $0) } },
                                 markers: true, color: t)
            }
        }
        return HTML.section("weights", "Task weights",
                            explanation: "How much each task's loss (or gradient) counts in the combined update, as the "
                                + "weighting method set it during training. Equal weighting keeps them at 1; adaptive "
                                + "methods move them to balance the tasks.",
                            "<div class=\"grid\">" + LineChart(title: "task weights", xLabel: "epoch", yLabel: "weight",
                                                                series: series).html() + "</div>")
    }

    private func geometrySection() -> String {
        let pairs = history.cosinePairs(tasks: names)
        let cosines = pairs.enumerated().map { i, pair in
            LineChart.Series(pair.replacingOccurrences(of: ",", with: " · "),
                             history.steps.compactMap { s in s.cosines[pair].map { (x: s.position, y: $0) } },
                             markers: true, color: i)
        }
        let condition = history.steps.compactMap { s in s.gramCondition.map { (x: s.position, y: $0) } }
        let charts = LineChart(title: "gradient cosine between tasks", xLabel: "epoch", yLabel: "cos", series: cosines,
                               yRange: -1...1).html()
            + LineChart(title: "Gram condition number", xLabel: "epoch", yLabel: "λmax / λmin (log scale)",
                        series: [.init("condition number", condition, markers: true)], logY: true).html()
        return HTML.section("geometry", "Gradient geometry",
                            explanation: "Gradient methods look at each task's gradient on the shared backbone. A cosine "
                                + "below 0 means two tasks pull the shared weights in opposite directions (conflict); "
                                + "near 1, they agree. The condition number of the tasks' Gram matrix G = J·Jᵀ says how "
                                + "lopsided the gradients are (1: equal size and orthogonal; large: one task dominates "
                                + "or two are nearly parallel). Sampled every few steps.",
                            "<div class=\"grid\">\(charts)</div>")
    }

    private func deltaSection() -> String {
        let dm = history.epochs.compactMap { e in e.deltaM.map { (x: Double(e.epoch), y: $0) } }
        let dp = history.epochs.compactMap { e in e.deltaP.map { (x: Double(e.epoch), y: 100 * $0) } }
        let chart = LineChart(title: "Δm per epoch (validation)", xLabel: "epoch", yLabel: "%", series: [
            .init("Δm % (lower is better)", dm, markers: true, color: 0),
            .init("Δp % (LibMTL, higher is better)", dp, dashed: true, markers: true, color: 1),
        ]).html()
        return HTML.section("delta", "Δm: all tasks in one number",
                            explanation: "Δm is the average relative change of every metric against a reference "
                                + "(\(HTML.escape(deltaReference))), signed so that negative is better (the convention of "
                                + "the multi-task papers). Δp is LibMTL's version: averaged per task first, positive is "
                                + "better. The best epoch is the one with the lowest validation Δm.",
                            "<div class=\"grid\">\(chart)</div>")
    }

    private func testSection() -> String {
        guard let test else {
            return HTML.section("test", "Final test results", explanation: "The best epoch's model is scored on the test "
                + "images when training ends; this section fills in then.", "<p class=\"muted\">not yet</p>")
        }
        let directions = Dictionary(test.metrics.map { ($0.key, $0.higherIsBetter) }, uniquingKeysWith: { a, _ in a })
        var html = HTML.table(["metric", "value"], test.metrics.map { m in
            [HTML.escape(m.key + (directions[m.key] == true ? " ↑" : " ↓")), HTML.number(m.value)]
        }, caption: "test metrics" + (test.epoch.map { " (model of epoch \($0))" } ?? ""))
        for d in test.details {
            html += "<h3>\(HTML.escape(d.task)) <span class=\"muted\">(\(HTML.escape(d.kind)), \(d.labelled) labelled test images)</span></h3>"
            var charts = ""
            var tables = ""
            if let decades = d.byDecade, !decades.isEmpty {
                let groups = decades.map { String(format: "%.0f–%.0f", $0.lower, $0.upper - 1) }
                charts += BarChart(title: "\(d.task): error by decade of the true value", yLabel: "error", groups: groups, series: [
                    .init("MAE", values: decades.map(\.mae)), .init("bias (prediction − truth)", values: decades.map(\.bias)),
                ]).html()
                tables += HTML.table(["true value", "count", "MAE", "bias"], decades.map { r in
                    [String(format: "%.0f–%.0f", r.lower, r.upper - 1), "\(r.count)", HTML.number(r.mae), HTML.number(r.bias)]
                })
            }
            if let classes = d.classes, let confusion = d.confusion {
                charts += ConfusionMatrixChart(title: "\(d.task): confusion matrix", classes: classes, matrix: confusion).html()
            }
            if let perClass = d.perClass, !perClass.isEmpty {
                charts += BarChart(title: "\(d.task): F1 per class", yLabel: "F1", groups: perClass.map(\.name),
                                   series: [.init("", values: perClass.map(\.f1))]).html()
                tables += HTML.table(["class", "precision", "recall", "F1", "support"], perClass.map { c in
                    [HTML.escape(c.name), HTML.number(c.precision), HTML.number(c.recall), HTML.number(c.f1), "\(c.support)"]
                })
            }
            if let ece = d.ece {
                tables += "<p>Calibration: expected calibration error <b>\(HTML.number(ece))</b> (0 means the predicted "
                    + "confidence matches how often the model is right).</p>"
            }
            html += "<div class=\"grid\">\(charts)</div>\(tables)"
        }
        return HTML.section("test", "Final test results",
                            explanation: "The kept model scored once on the test images, never seen in training or "
                                + "model selection. Regression: the error per decade of the true value (bias above 0 "
                                + "means over-estimates). Classification: the confusion matrix (rows: the true class, "
                                + "columns: the predicted one; the diagonal is right) and per-class precision, recall "
                                + "and F1.", html)
    }
}
