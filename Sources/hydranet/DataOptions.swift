import ArgumentParser
import Foundation
import HydraNet

/// Where labelled images come from: the flags `train`, `evaluate` and `finetune` share.
struct DataOptions: ParsableArguments {
    @Option(help: "Data: 'synthetic' (generated faces, the default) or a UTKFace-format folder.")
    var data = "synthetic"

    @Option(help: "Number of generated faces (synthetic data).")
    var syntheticCount = 2000

    /// The data source these flags name.
    func source() throws -> RunConfiguration.DataSource {
        data == "synthetic" ? .synthetic(count: syntheticCount, size: 64) : .utkface(folder: data)
    }
}
