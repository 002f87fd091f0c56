import ArgumentParser
import Foundation
import HydraNet

/// The data-selection flags shared by commands that read labelled images (`train`, and
/// `evaluate` / `finetune`): `--data` (synthetic, a UTKFace folder or a CSV manifest),
/// `--synthetic-count`, repeated `--task NAME:KIND[:CLASSES]` and `--image-column`.
/// ``source()`` turns them into a ``RunConfiguration/DataSource`` (the logic lives in the
/// library: ``RunConfiguration/DataSource/parse(data:syntheticCount:syntheticSize:tasks:imageColumn:)``).
struct DataOptions: ParsableArguments {
    @Option(help: "Data: 'synthetic' (generated faces, the default), a UTKFace-format folder, or a CSV manifest (file.csv, with --task).")
    var data = "synthetic"

    @Option(help: "Number of generated faces (synthetic data).")
    var syntheticCount = 2000

    @Option(name: .customLong("task"),
            help: ArgumentHelp("A task column of the CSV manifest, repeated: NAME:regression, NAME:binary[:NEG,POS], "
                + "NAME:multiclass[:A,B,C], NAME:multilabel[:A,B,C] (cells 'a;b', '-' for none, empty for missing).",
                valueName: "name:kind[:classes]"))
    var tasks: [String] = []

    @Option(help: "The CSV manifest's column of image paths (relative to the manifest's folder, or absolute).")
    var imageColumn = "path"

    /// The data source the flags describe; a usage error (exit status 64) for flags that do
    /// not fit together (e.g. a CSV without `--task`, which lists the CSV's columns).
    /// `modelTasks`: the tasks of the model being evaluated or fine-tuned (CSV columns named
    /// like them are read as them).
    func source(syntheticSize: Int = 64, modelTasks: [HydraTask] = []) throws -> RunConfiguration.DataSource {
        do {
            return try RunConfiguration.DataSource.parse(data: data, syntheticCount: syntheticCount, syntheticSize: syntheticSize,
                                                         tasks: tasks, imageColumn: imageColumn, modelTasks: modelTasks)
        } catch let error as HydraError {
            throw ValidationError(error.description)
        }
    }
}
