import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport

/// `report.html`: written after every epoch and at the end of a run, opened in headless
/// Chromium straight from disk: no console message (SVG errors and script errors land
/// there), every chart present and drawn, a screenshot under `.build/artifacts/`.
@Suite("run report", .serialized)
struct RunReportTests {
    @Test("a gradient-method run's report.html: every section's chart drawn, no console errors, screenshot saved")
    func reportInChromium() throws {
        let scratch = try ScratchFolder("report")
        defer { scratch.cleanUp() }
        var c = ExperimentRunTests.configuration(scratch, epochs: 3)
        c.data = .synthetic(count: 90, size: 24)
        c.weighting = "upgrad"
        let files = RunFiles(c.outputDirectory)
        let run = try ExperimentRun(c, log: { _ in })
        run.trainer.geometryEvery = 1  // cosines and condition number at every step
        var pages: [Int: String] = [:]
        run.onEpoch = { report in pages[report.epoch] = try String(contentsOfFile: files.path("report.html"), encoding: .utf8) }
        try run.run()
        run.onEpoch = nil

        // Rewritten after each epoch, for a job being watched; the test section fills in at the end.
        #expect(pages.keys.sorted() == [1, 2, 3])
        #expect(pages[1]?.contains("training: epoch 1 of 3 done") == true, "epoch 1's page: \(pages[1]?.prefix(600) ?? "none")")
        #expect(pages[2]?.contains("training: epoch 2 of 3 done") == true)
        let final = try String(contentsOfFile: files.path("report.html"), encoding: .utf8)
        #expect(final.contains("finished: 3 epochs, tested"))
        #expect(final.hasSuffix("</html>\n"))
        // Self-contained: nothing fetched from anywhere.
        for needle in ["http://", "https://", "<script src", "<link "] {
            let hits = final.components(separatedBy: needle).count - 1
            let svgNamespace = needle == "http://" ? final.components(separatedBy: "http://www.w3.org/2000/svg").count - 1 : 0
            #expect(hits == svgNamespace, "report.html refers to \(needle)…")
        }

        // The step lines carry the gradients' geometry the geometry charts draw.
        let steps = try files.metricsLines().filter { $0["type"] as? String == "step" }
        let cosines = try #require(steps.last?["cosines"] as? [String: Double], "no cosines in \(steps.last ?? [:])")
        #expect(Set(cosines.keys) == ["age,gender", "age,race", "gender,race"])
        #expect(cosines.values.allSatisfy { (-1...1).contains($0) })
        #expect(steps.contains { ($0["gram_condition"] as? Double).map { $0 >= 1 } ?? false })

        let page = try HeadlessChromium.load(files.path("report.html"))
        #expect(page.console.isEmpty, "console messages:\n\(page.console.joined(separator: "\n"))")
        let charts = HeadlessChromium.charts(in: page.dom)
        let expected = ["age: loss", "gender: loss", "race: loss",
                        "age: validation metrics", "gender: validation metrics", "race: validation metrics",
                        "task weights", "gradient cosine between tasks", "Gram condition number", "Δm per epoch (validation)",
                        "age: error by decade of the true value", "gender: confusion matrix", "gender: F1 per class",
                        "race: confusion matrix", "race: F1 per class"]
        #expect(charts.map(\.title) == expected)
        for chart in charts {
            #expect(!chart.html.contains("data-empty"), "chart '\(chart.title)' is empty")
            #expect(chart.html.contains("<svg"), "chart '\(chart.title)' has no SVG")
            #expect(chart.html.contains("class=\"mark\""), "chart '\(chart.title)' draws nothing")
            #expect(!chart.html.contains("NaN") && !chart.html.contains("inf"), "chart '\(chart.title)' has a non-finite coordinate")
        }
        // Every section a newcomer needs, in the DOM Chromium built.
        for id in ["configuration", "losses", "validation", "weights", "geometry", "delta", "test"] {
            #expect(page.dom.contains("<section id=\"\(id)\">"), "no section \(id)")
        }
        let screenshot = (HeadlessChromium.artifacts as NSString).appendingPathComponent("report.png")
        try HeadlessChromium.screenshot(files.path("report.html"), to: screenshot, height: 5200)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int)
        #expect(size > 50_000, "the screenshot \(screenshot) is only \(size) bytes")
        print("report screenshot: \(screenshot)")
    }

    @Test("a chart of no data says so; values that are not finite are left out of the SVG")
    func chartsWithoutData() {
        let empty = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init("a", [])]).html()
        #expect(empty.contains("data-empty=\"true\"") && empty.contains("no data yet") && !empty.contains("class=\"mark\""))
        let mixed = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            .init("a", [(1, 1), (2, .nan), (3, .infinity), (4, 2)]),
        ], logY: true).html()
        #expect(mixed.contains("class=\"mark\"") && !mixed.contains("NaN") && !mixed.contains("inf"))
        let bars = BarChart(title: "b", yLabel: "y", groups: ["x", "y"], series: [.init("", values: [1, nil], errors: [.nan, nil])])
            .html()
        #expect(bars.components(separatedBy: "class=\"mark\"").count - 1 == 1)
        #expect(HTML.escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }
}
