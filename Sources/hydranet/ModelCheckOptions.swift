import ArgumentParser
import HydraNet

/// What the command expects of the checkpoint it is given (`evaluate`, `predict`,
/// `finetune`): a model that differs is refused with a message, never run at another size
/// or with another stem. Each is optional; unset means "whatever the checkpoint says".
struct ModelCheckOptions: ParsableArguments {
    @Option(help: "Refuse the model unless it takes N×N images.")
    var imageSize: Int?

    @Option(help: "Refuse the model unless its backbone is this (resnet18, resnet34, resnet50, convnet).")
    var backbone: String?

    @Flag(inversion: .prefixedNo, help: "Refuse the model unless it has (or, with --no-small-stem, lacks) the small-image stem.")
    var smallStem: Bool?

    /// Throws the checkpoint's refusal when `spec` differs from these expectations.
    func check(_ spec: ModelSpec, path: String) throws {
        try spec.check(path: path, imageSize: imageSize, backbone: backbone, smallImageStem: smallStem)
    }
}
