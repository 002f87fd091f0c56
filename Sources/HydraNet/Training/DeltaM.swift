import Foundation
import Torch

/// The standard multi-task score against single-task (or other) baselines.
public enum DeltaM {
    /// The paper convention (Maninis et al. 2019; used by CAGrad, Nash-MTL, FAMO):
    /// Δm% = (100/K) Σₖ (−1)^{δₖ}(M_mtl,k − M_base,k)/M_base,k over all K metrics present in
    /// both (metrics whose baseline is 0 are skipped), with δₖ = 1 when higher is better. **Lower is better**; negative means better
    /// than the baseline.
    public static func percent(_ metrics: [MetricValue], baseline: [String: Double]) throws -> Double {
        let pairs = try matched(metrics, baseline)
        let terms = pairs.map { m, b in (m.higherIsBetter ? -1.0 : 1.0) * (m.value - b) / b }
        return 100 * terms.reduce(0, +) / Double(terms.count)
    }

    /// LibMTL's Δp: per task the mean of (−1)^{w}(B − M)/B over its metrics (w = 1 when
    /// higher is better), then the mean over tasks. **Higher is better**; a fraction.
    public static func libMTL(_ metrics: [MetricValue], baseline: [String: Double]) throws -> Double {
        let pairs = try matched(metrics, baseline)
        let byTask = Dictionary(grouping: pairs, by: { $0.0.task })
        // Summed in task-name order: a dictionary's own order changes from process to process,
        // and with it the last bit of the sum (a resumed run must report what an
        // uninterrupted one does).
        let perTask = byTask.keys.sorted().map { byTask[$0]! }.map { items in
            items.map { m, b in (m.higherIsBetter ? -1.0 : 1.0) * (b - m.value) / b }.reduce(0, +) / Double(items.count)
        }
        return perTask.reduce(0, +) / Double(perTask.count)
    }

    private static func matched(_ metrics: [MetricValue], _ baseline: [String: Double]) throws -> [(MetricValue, Double)] {
        // A metric whose baseline is 0 (e.g. an F1 of 0 in an untrained first epoch) has no
        // relative change; it is left out rather than making the whole score undefined.
        let pairs = metrics.compactMap { m in baseline[m.key].map { (m, $0) } }.filter { $0.1 != 0 }
        guard !pairs.isEmpty else {
            throw HydraError.invalidConfiguration("the baseline shares no metric with the results (baseline keys: "
                + "\(baseline.keys.sorted().prefix(6).joined(separator: ", ")); metrics: "
                + "\(metrics.prefix(6).map(\.key).joined(separator: ", ")))")
        }
        return pairs
    }

    /// Reads a baseline file: a JSON object of `"task/metric": value`.
    public static func loadBaseline(_ path: String) throws -> [String: Double] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw HydraError.invalidConfiguration("cannot read baseline file \(path): \(error.localizedDescription)")
        }
        guard let values = try? JSONDecoder().decode([String: Double].self, from: data) else {
            throw HydraError.invalidConfiguration("baseline file \(path) is not a JSON object of \"task/metric\": number")
        }
        if let bad = values.first(where: { !$0.value.isFinite }) {
            throw HydraError.invalidConfiguration("baseline file \(path): value of '\(bad.key)' is not finite")
        }
        return values
    }

    /// Writes metrics as a baseline file, crash-safely (``AtomicFile``).
    public static func saveBaseline(_ metrics: [MetricValue], to path: String) throws {
        let object = Dictionary(uniqueKeysWithValues: metrics.map { ($0.key, $0.value) })
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: path)
    }
}
