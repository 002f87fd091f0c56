import ArgumentParser
import Foundation
import HydraNet
import Torch

/// `hydranet train`: the main job. With no options it trains a ResNet-18 HydraNet (age,
/// gender, race) on generated UTKFace-style faces; every choice is a flag.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a multi-task HydraNet (default: ResNet-18 on generated faces, uncertainty weighting).")

    @OptionGroup var engine: EngineOptions

    @OptionGroup var configFile: ConfigFileOption

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Input size: images are resized to N×N. Default: 64 for the UTKFace recipe, 32 otherwise.")
    var imageSize: Int?

    @Option(help: "Backbone: \(RunConfiguration.BackboneKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var backbone = "resnet18"

    @Flag(help: "ResNet 3×3 stride-1 stem without max-pool (small images).")
    var smallStem = false

    @Option(help: "torchvision weights for the backbone (.pth or .safetensors).")
    var pretrained: String?

    @Flag(help: "Train only the heads: the backbone stays fixed.")
    var freezeBackbone = false

    @Option(help: "Heads to keep fixed, comma-separated (e.g. fine-tune one head at a time).")
    var freezeHeads: String?

    @OptionGroup var training: TrainingOptions

    @OptionGroup var recipe: NewTaskLossOptions

    @OptionGroup var distributed: DistributedOptions

    func run() throws {
        if try distributed.launches() { try distributed.launch(threadsGiven: engine.threads != nil) }
        var (c, device) = try makeConfiguration()
        // Each local rank on its own GPU (LOCAL_RANK modulo the GPUs here), as torchrun users do.
        if let e = c.distributed, device.kind == .cuda, !engine.device.contains(":"), Device.cudaDeviceCount > 1 {
            device = .cuda(e.localRank % Device.cudaDeviceCount)
            c.device = device
        }
        // Errors from here on (data, training) are reported as they are, without usage text.
        try runTraining(c, quiet: training.quiet, device: device)
    }

    /// The run the flags describe (validated; a usage error otherwise) and its device.
    func makeConfiguration() throws -> (RunConfiguration, Device) {
        let device = try engine.apply()
        // A UTKFace folder starts from the UTKFace recipe, anything else from the general
        // defaults; every flag given overrides them.
        var c = RunConfiguration.defaults(for: try dataOptions.source())
        if let imageSize { c.imageSize = imageSize }
        guard let kind = RunConfiguration.BackboneKind(rawValue: backbone) else {
            throw ValidationError("unknown backbone '\(backbone)'")
        }
        c.backbone = kind
        c.smallImageStem = smallStem
        c.pretrainedWeights = pretrained
        c.freezeBackbone = freezeBackbone
        c.frozenHeads = commaList(freezeHeads)
        c.device = device
        try training.apply(to: &c)
        try recipe.apply(to: &c)
        try engine.apply(to: &c)
        try distributed.apply(to: &c)
        do {
            try c.validate()
        } catch let error as HydraError {
            throw ValidationError(error.description)
        }
        return (c, device)
    }
}
