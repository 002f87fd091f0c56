import Foundation

/// A task's language-neutral JSON form (docs/checkpoint-format.md), as checkpoints and
/// training states store it:
///
/// ```json
/// {"name": "race", "kind": "multiclass", "outputs": 5, "classes": ["White", "Black", …],
///  "loss": {"type": "cross_entropy", "class_weights": null, "label_smoothing": 0},
///  "standardize": false, "target_mean": 0, "target_std": 1}
/// ```
///
/// `kind` is `regression`, `binary`, `multiclass` or `multilabel`; `outputs` is the head's
/// output count; `loss.type` is `l1`, `mse`, `huber` (with `delta`), `bce` (with `pos_weight`)
/// or `cross_entropy` (with `class_weights` and `label_smoothing`). A regression head predicts
/// `(y − target_mean) / target_std` when `standardize` is true.
extension HydraTask: Codable {
    enum CodingKeys: String, CodingKey {
        case name, kind, outputs, classes, loss, standardize
        case targetMean = "target_mean", targetStd = "target_std"
    }

    enum LossKeys: String, CodingKey {
        case type, delta
        case posWeight = "pos_weight", classWeights = "class_weights", labelSmoothing = "label_smoothing"
    }

    /// The `kind` string of the schema.
    public var kindName: String {
        switch kind {
        case .regression: "regression"
        case .binary: "binary"
        case .multiclass: "multiclass"
        case .multilabel: "multilabel"
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(kindName, forKey: .kind)
        try c.encode(outputCount, forKey: .outputs)
        try c.encode(classNames, forKey: .classes)
        var l = c.nestedContainer(keyedBy: LossKeys.self, forKey: .loss)
        switch loss {
        case .l1: try l.encode("l1", forKey: .type)
        case .mse: try l.encode("mse", forKey: .type)
        case let .huber(delta):
            try l.encode("huber", forKey: .type)
            try l.encode(delta, forKey: .delta)
        case let .binaryCrossEntropy(posWeight):
            try l.encode("bce", forKey: .type)
            try l.encode(posWeight, forKey: .posWeight)
        case let .crossEntropy(weights, smoothing):
            try l.encode("cross_entropy", forKey: .type)
            try l.encode(weights, forKey: .classWeights)
            try l.encode(smoothing, forKey: .labelSmoothing)
        }
        try c.encode(standardize, forKey: .standardize)
        try c.encode(targetMean, forKey: .targetMean)
        try c.encode(targetStd, forKey: .targetStd)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .name)
        let kindName = try c.decode(String.self, forKey: .kind)
        let outputs = try c.decodeIfPresent(Int.self, forKey: .outputs)
        let classes = try c.decodeIfPresent([String].self, forKey: .classes) ?? []
        func fail(_ message: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "task '\(name)': \(message)")
        }
        let kind: Kind
        switch kindName {
        case "regression": kind = .regression
        case "binary": kind = .binary
        case "multiclass", "multilabel":
            guard let n = outputs ?? (classes.isEmpty ? nil : classes.count), n > 0, n <= 1_000_000 else {
                throw fail("a \(kindName) task needs 'outputs' (1…1000000) or its 'classes'")
            }
            kind = kindName == "multiclass" ? .multiclass(n) : .multilabel(n)
        default:
            throw fail("unknown kind '\(kindName)' (regression, binary, multiclass, multilabel)")
        }
        if !classes.isEmpty, case let .multiclass(n) = kind, classes.count != n { throw fail("\(classes.count) class names for \(n) outputs") }
        if !classes.isEmpty, case let .multilabel(n) = kind, classes.count != n { throw fail("\(classes.count) label names for \(n) outputs") }
        if !classes.isEmpty, kind == .binary, classes.count != 2 { throw fail("a binary task has 2 class names, got \(classes.count)") }
        let loss: Loss
        if c.contains(.loss) {
            let l = try c.nestedContainer(keyedBy: LossKeys.self, forKey: .loss)
            switch try l.decode(String.self, forKey: .type) {
            case "l1": loss = .l1
            case "mse": loss = .mse
            case "huber": loss = .huber(delta: try l.decodeIfPresent(Double.self, forKey: .delta) ?? 1)
            case "bce": loss = .binaryCrossEntropy(posWeight: try l.decodeIfPresent([Double].self, forKey: .posWeight))
            case "cross_entropy":
                loss = .crossEntropy(classWeights: try l.decodeIfPresent([Double].self, forKey: .classWeights),
                                     labelSmoothing: try l.decodeIfPresent(Double.self, forKey: .labelSmoothing) ?? 0)
            case let other: throw fail("unknown loss '\(other)' (l1, mse, huber, bce, cross_entropy)")
            }
        } else {
            loss = HydraTask.defaultLoss(for: kind)
        }
        self.init(name: name, kind: kind, loss: loss, classNames: classes,
                  standardize: try c.decodeIfPresent(Bool.self, forKey: .standardize))
        targetMean = try c.decodeIfPresent(Double.self, forKey: .targetMean) ?? 0
        targetStd = try c.decodeIfPresent(Double.self, forKey: .targetStd) ?? 1
    }
}

extension HydraTask {
    /// The data-side description of this task (what a dataset column of it holds).
    public var dataSpec: TaskSpec {
        switch kind {
        case .regression: .regression(name)
        case .binary: .binary(name, classNames: classNames.count == 2 ? classNames : ["0", "1"])
        case let .multiclass(n):
            .classification(name, classNames: classNames.count == n ? classNames : (0..<n).map(String.init))
        case let .multilabel(n):
            .multilabel(name, labelNames: classNames.count == n ? classNames : (0..<n).map(String.init))
        }
    }

    /// The CSV manifest column of this task, with its class names when it has them.
    public var csvColumn: CSVManifest.Column {
        let names = classNames.isEmpty ? nil : classNames
        switch kind {
        case .regression: return .regression(name)
        case .binary: return .binary(name, classNames: names)
        case .multiclass: return .classification(name, classNames: names)
        case .multilabel: return .multilabel(name, labelNames: names)
        }
    }
}

extension HydraTask {
    /// The index of this task's label column among `dataTasks` (by name), nil when the data
    /// has none; throws when the column's kind or class count does not fit the task.
    public func column(in dataTasks: [TaskSpec]) throws -> Int? {
        guard let i = dataTasks.firstIndex(where: { $0.name == name }) else { return nil }
        let compatible: Bool
        switch (kind, dataTasks[i].kind) {
        case (.regression, .regression), (.binary, .binary): compatible = true
        case let (.multiclass(a), .classification(b)): compatible = a == b
        case let (.multilabel(a), .multilabel(b)): compatible = a == b
        default: compatible = false
        }
        guard compatible else {
            throw HydraError.invalidData("task '\(name)' is \(kind) in the model but \(dataTasks[i].kind) in the data")
        }
        // Class names given on both sides must agree index by index (indices "0", "1", … match anything).
        func named(_ names: [String]) -> Bool { !names.isEmpty && names != names.indices.map(String.init) }
        let own = classNames, theirs = dataTasks[i].classNames
        if named(own), named(theirs), own != theirs {
            throw HydraError.invalidData("task '\(name)': the model's classes are \(own), the data's \(theirs)")
        }
        return i
    }
}
