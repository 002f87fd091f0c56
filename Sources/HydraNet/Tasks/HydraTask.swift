import Foundation
import HydraData
import Torch

/// One prediction target of a multi-task model: its name, kind, loss and (for regression)
/// target standardisation. Named `HydraTask` to stay clear of Swift's concurrency `Task`.
public struct HydraTask: Sendable, Hashable, CustomStringConvertible {
    /// What the task predicts.
    public enum Kind: Sendable, Hashable {
        /// A real number (head output 1).
        case regression
        /// A yes/no label (head output 1 logit).
        case binary
        /// One of `classes` classes (head output `classes` logits).
        case multiclass(Int)
        /// Any subset of `labels` labels (head output `labels` logits).
        case multilabel(Int)

        /// The shape of a batch of `batch` targets: [B], or B×labels for multilabel.
        public func targetShape(batch: Int) -> [Int] {
            if case let .multilabel(k) = self { return [batch, k] }
            return [batch]
        }
    }

    /// The loss used for the task.
    public enum Loss: Sendable, Hashable, CustomStringConvertible {
        case l1
        case mse
        case huber(delta: Double)
        /// BCE with logits; `posWeight` per output (binary: one value).
        case binaryCrossEntropy(posWeight: [Double]?)
        /// Cross-entropy with optional class weights and label smoothing.
        case crossEntropy(classWeights: [Double]?, labelSmoothing: Double)

        public var description: String {
            switch self {
            case .l1: "L1"
            case .mse: "MSE"
            case let .huber(d): "Huber(δ=\(d))"
            case let .binaryCrossEntropy(pw): pw == nil ? "BCE" : "BCE(pos_weight=\(pw!))"
            case let .crossEntropy(w, s):
                "CE" + (w == nil && s == 0 ? "" : "(" + [w.map { "weights=[" + $0.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "]" }, s > 0 ? "smoothing=\(s)" : nil]
                    .compactMap { $0 }.joined(separator: ", ") + ")")
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var loss: Loss
    /// Class names by index (binary: negative, positive; multilabel: label names).
    public var classNames: [String]
    /// Regression only: train on (y − mean)/std and report in original units.
    public var standardize: Bool
    /// The fitted standardisation (mean, std); identity until ``fitStandardization(_:)``.
    public var targetMean: Double = 0
    public var targetStd: Double = 1

    public init(name: String, kind: Kind, loss: Loss? = nil, classNames: [String] = [], standardize: Bool? = nil) {
        self.name = name
        self.kind = kind
        self.loss = loss ?? HydraTask.defaultLoss(for: kind)
        self.classNames = classNames
        self.standardize = standardize ?? (kind == .regression)
    }

    /// L1 for regression (the article's choice for age), BCE for binary and multilabel,
    /// cross-entropy for multiclass.
    public static func defaultLoss(for kind: Kind) -> Loss {
        switch kind {
        case .regression: .l1
        case .binary, .multilabel: .binaryCrossEntropy(posWeight: nil)
        case .multiclass: .crossEntropy(classWeights: nil, labelSmoothing: 0)
        }
    }

    /// The task that a dataset's label column describes.
    public init(_ spec: TaskSpec, loss: Loss? = nil) {
        switch spec.kind {
        case .regression: self.init(name: spec.name, kind: .regression, loss: loss)
        case .binary: self.init(name: spec.name, kind: .binary, loss: loss, classNames: spec.classNames)
        case let .classification(n): self.init(name: spec.name, kind: .multiclass(n), loss: loss, classNames: spec.classNames)
        case let .multilabel(k): self.init(name: spec.name, kind: .multilabel(k), loss: loss, classNames: spec.classNames)
        }
    }

    /// Number of head outputs.
    public var outputCount: Int {
        switch kind {
        case .regression, .binary: 1
        case let .multiclass(n), let .multilabel(n): n
        }
    }

    /// Checks that the loss fits the kind and the options are in range.
    public func validate() throws {
        guard !name.isEmpty, !name.contains("."), !name.contains("/") else {
            throw HydraError.invalidConfiguration("task name '\(name)' must be non-empty without '.' or '/'")
        }
        switch (kind, loss) {
        case (.regression, .l1), (.regression, .mse), (.regression, .huber): break
        case (.binary, .binaryCrossEntropy), (.multilabel, .binaryCrossEntropy), (.multiclass, .crossEntropy): break
        default:
            throw HydraError.invalidConfiguration("task '\(name)': loss \(loss) does not fit a \(kind) task")
        }
        switch kind {
        case let .multiclass(n), let .multilabel(n):
            guard n >= 2 || kind == .multilabel(n) && n >= 1 else {
                throw HydraError.invalidConfiguration("task '\(name)': needs at least 2 classes")
            }
        default: break
        }
        guard Set(classNames).count == classNames.count else {
            throw HydraError.invalidConfiguration("task '\(name)': class names must be distinct, got \(classNames)")
        }
        if case let .huber(delta) = loss, delta <= 0 {
            throw HydraError.invalidConfiguration("task '\(name)': Huber delta must be positive")
        }
        if case let .crossEntropy(weights, smoothing) = loss {
            guard (0..<1).contains(smoothing) else {
                throw HydraError.invalidConfiguration("task '\(name)': label smoothing must be in [0, 1)")
            }
            if let weights, weights.count != outputCount || weights.contains(where: { $0 < 0 }) {
                throw HydraError.invalidConfiguration("task '\(name)': needs \(outputCount) non-negative class weights")
            }
        }
        if case let .binaryCrossEntropy(pw?) = loss, pw.count != outputCount || pw.contains(where: { $0 <= 0 }) {
            throw HydraError.invalidConfiguration("task '\(name)': needs \(outputCount) positive pos_weight values")
        }
    }

    /// Fits the regression standardisation on training targets (those present).
    public mutating func fitStandardization(_ values: [Double]) {
        guard kind == .regression, standardize, values.count > 1 else { return }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        targetMean = mean
        targetStd = variance > 0 ? variance.squareRoot() : 1
    }

    public var description: String {
        switch kind {
        case .regression: "\(name) (regression, \(loss))"
        case .binary: "\(name) (binary, \(loss))"
        case let .multiclass(n): "\(name) (\(n) classes, \(loss))"
        case let .multilabel(n): "\(name) (\(n) labels, \(loss))"
        }
    }

    /// The name of class `index`.
    public func className(_ index: Int) -> String {
        index >= 0 && index < classNames.count ? classNames[index] : String(index)
    }
}

/// Errors from HydraNet's multi-task layer, with messages a user can act on.
public enum HydraError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case invalidData(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(m): "invalid configuration: \(m)"
        case let .invalidData(m): "invalid data: \(m)"
        case let .checkpoint(m): "checkpoint: \(m)"
        }
    }
}
