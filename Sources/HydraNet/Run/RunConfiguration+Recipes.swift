import Foundation
import Torch

extension RunConfiguration {
    /// The general defaults of `hydranet train` (and `finetune`): 32-pixel images, 3 epochs
    /// of AdamW (lr 10⁻³, cosine), batch 64, flip/crop/colour augmentation, uncertainty
    /// weighting, float32, NCHW.
    public static var general: RunConfiguration {
        var c = RunConfiguration()
        c.training.epochs = 3
        return c
    }

    /// The settings `hydranet train` starts from for `data`, before its flags apply: the
    /// UTKFace recipe (``utkfaceRecipe(folder:)``) for a UTKFace folder, ``general``
    /// otherwise.
    public static func defaults(for data: DataSource) -> RunConfiguration {
        var c: RunConfiguration
        if case let .utkface(folder) = data {
            c = utkfaceRecipe(folder: folder)
        } else {
            c = general
        }
        c.data = data
        return c
    }

    /// HydraNet's UTKFace recipe: what `hydranet train --data <UTKFace folder>` runs with no
    /// other flag. Its choices were judged on the validation split (README, *A UTKFace recipe*):
    ///
    /// - a 20-minute time budget: as many epochs as fit on this machine (``EpochBudget``;
    ///   5 with the budget turned off);
    /// - bfloat16 autocast where the CPU computes it natively (AMX or AVX-512 BF16), float32
    ///   elsewhere;
    /// - 64-pixel images, ResNet-18 with its ImageNet stem, channels-last (NHWC) activations
    ///   and weights;
    /// - AdamW (lr 10⁻³, weight decay 10⁻⁴, cosine to 0 over the run), batch 64;
    /// - flip and 4-pixel pad-and-crop (no colour jitter); equal task weights;
    /// - race: cross-entropy with label smoothing 0.1 and inverse-square-root class weights
    ///   (the rare "Others" class weighs about 1.7× a balanced class, "White" about 0.7×);
    /// - age: L1 on standardised age (the metric is MAE);
    /// - flip test-time augmentation for validation, test and the saved checkpoints.
    public static func utkfaceRecipe(folder: String) -> RunConfiguration {
        var c = RunConfiguration()
        c.data = .utkface(folder: folder)
        c.imageSize = 64
        c.training.channelsLast = true
        c.training.epochs = 5
        c.timeBudget = 20 * 60
        c.training.precision = Precision.hasNativeBF16() ? .bf16 : .fp32
        c.training.optimizer = .adamw
        c.training.learningRate = 1e-3
        c.training.weightDecay = 1e-4
        c.schedule = .cosine
        c.batchSize = 64
        c.augment = true
        c.colorJitter = 0
        c.weighting = "equal"
        c.labelSmoothing = 0.1
        c.classBalance = .sqrt
        c.testTimeFlip = true
        return c
    }
}
