import Foundation
import Torch

/// A learning-rate schedule as a function of the step count (PyTorch's schedulers in
/// closed form). `learningRate(base:step:)` gives a group's rate at step `step` (0 = at
/// construction) from its base rate.
public indirect enum LRSchedule: Sendable {
    /// The base rate throughout.
    case constant
    /// × gamma every `size` steps (`StepLR`).
    case step(size: Int, gamma: Double = 0.1)
    /// × gamma at each milestone (`MultiStepLR`).
    case multiStep(milestones: [Int], gamma: Double = 0.1)
    /// × gamma every step (`ExponentialLR`).
    case exponential(gamma: Double)
    /// Half a cosine from the base rate to `etaMin` over `tMax` steps (`CosineAnnealingLR`).
    case cosineAnnealing(tMax: Int, etaMin: Double = 0)
    /// A linear factor from `startFactor` to `endFactor` over `totalIters` steps, e.g. a
    /// warm-up (`LinearLR`).
    case linear(startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalIters: Int = 5)
    /// Smith's one-cycle policy (`OneCycleLR`): from maxLR/divFactor up to `maxLR` over
    /// `pctStart` of `totalSteps`, then down to maxLR/(divFactor·finalDivFactor); momentum
    /// (β1 for Adam) cycles the opposite way between `baseMomentum` and `maxMomentum`.
    /// `maxLR` is the first parameter group's peak; other groups keep their ratio to the
    /// first group's base rate (PyTorch's `max_lr` list, derived).
    case oneCycle(maxLR: Double, totalSteps: Int, pctStart: Double = 0.3, cosine: Bool = true, divFactor: Double = 25,
                  finalDivFactor: Double = 1e4, cycleMomentum: Bool = true, baseMomentum: Double = 0.85,
                  maxMomentum: Double = 0.95)
    /// One schedule after another, switching at the milestones; each restarts its own step
    /// count (`SequentialLR`).
    case sequential([LRSchedule], milestones: [Int])

    /// Checks the parameters; returns a message for the first problem.
    public func validationError() -> String? {
        switch self {
        case .constant, .exponential: return nil
        case let .step(size, _): return size > 0 ? nil : "StepLR: step size must be positive"
        case let .multiStep(milestones, _):
            return milestones == milestones.sorted() ? nil : "MultiStepLR: milestones must be increasing"
        case let .cosineAnnealing(tMax, _): return tMax > 0 ? nil : "CosineAnnealingLR: tMax must be positive"
        case let .linear(start, end, total):
            guard start > 0, start <= 1, end >= 0, end <= 1 else {
                return "LinearLR: factors must be in (0, 1] and [0, 1]"
            }
            return total > 0 ? nil : "LinearLR: totalIters must be positive"
        case let .oneCycle(maxLR, totalSteps, pctStart, _, divFactor, finalDivFactor, _, _, _):
            guard maxLR > 0, totalSteps > 0 else { return "OneCycleLR: maxLR and totalSteps must be positive" }
            guard pctStart > 0, pctStart < 1 else { return "OneCycleLR: pctStart must be in (0, 1)" }
            guard pctStart * Double(totalSteps) > 1 else {
                return "OneCycleLR: pctStart × totalSteps must exceed 1 (the warm-up phase needs a step)"
            }
            return divFactor > 0 && finalDivFactor > 0 ? nil : "OneCycleLR: division factors must be positive"
        case let .sequential(schedules, milestones):
            guard schedules.count == milestones.count + 1 else {
                return "SequentialLR: needs one more schedule than milestones"
            }
            guard milestones == milestones.sorted() else { return "SequentialLR: milestones must be increasing" }
            return schedules.lazy.compactMap { $0.validationError() }.first
        }
    }

    /// The learning rate at `step` for a group whose base rate is `base`.
    public func learningRate(base: Double, step: Int) -> Double {
        switch self {
        case .constant:
            return base
        case let .step(size, gamma):
            return base * Foundation.pow(gamma, Double(step / size))
        case let .multiStep(milestones, gamma):
            return base * Foundation.pow(gamma, Double(milestones.filter { $0 <= step }.count))
        case let .exponential(gamma):
            return base * Foundation.pow(gamma, Double(step))
        case let .cosineAnnealing(tMax, etaMin):
            return etaMin + (base - etaMin) * (1 + Foundation.cos(Double.pi * Double(step) / Double(tMax))) / 2
        case let .linear(start, end, total):
            return base * (start + (end - start) * Double(Swift.min(step, total)) / Double(total))
        case .oneCycle:
            return oneCycle(step: step).lr
        case let .sequential(schedules, milestones):
            let index = milestones.filter { $0 <= step }.count
            let offset = index == 0 ? 0 : milestones[index - 1]
            return schedules[index].learningRate(base: base, step: step - offset)
        }
    }

    /// The momentum at `step`, for schedules that set it (OneCycle with cycleMomentum).
    public func momentum(step: Int) -> Double? {
        switch self {
        case let .oneCycle(_, _, _, _, _, _, cycle, _, _): return cycle ? oneCycle(step: step).momentum : nil
        case let .sequential(schedules, milestones):
            let index = milestones.filter { $0 <= step }.count
            let offset = index == 0 ? 0 : milestones[index - 1]
            return schedules[index].momentum(step: step - offset)
        default: return nil
        }
    }

    private func oneCycle(step: Int) -> (lr: Double, momentum: Double) {
        guard case let .oneCycle(maxLR, total, pctStart, cosine, divFactor, finalDiv, _, baseM, maxM) = self else {
            return (0, 0)
        }
        let initial = maxLR / divFactor, minLR = initial / finalDiv
        func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
            cosine ? end + (start - end) / 2 * (Foundation.cos(Double.pi * pct) + 1) : (end - start) * pct + start
        }
        let phases: [(end: Double, lr: (Double, Double), m: (Double, Double))] = [
            (pctStart * Double(total) - 1, (initial, maxLR), (maxM, baseM)),
            (Double(total) - 1, (maxLR, minLR), (baseM, maxM)),
        ]
        var start = 0.0
        for (i, phase) in phases.enumerated() {
            if Double(step) <= phase.end || i == phases.count - 1 {
                let pct = (Double(step) - start) / (phase.end - start)
                return (anneal(phase.lr.0, phase.lr.1, pct), anneal(phase.m.0, phase.m.1, pct))
            }
            start = phase.end
        }
        return (minLR, maxM)
    }
}

/// Applies an ``LRSchedule`` to an optimizer (`torch.optim.lr_scheduler`): the rates are
/// set at construction (step 0) and after each ``step()``, which you call after
/// `optimizer.step()` — per batch or per epoch, as the schedule was designed.
public final class LRScheduler {
    public let schedule: LRSchedule
    public let optimizer: any Optimizer
    /// The group rates the schedule scales (the optimizer's rates at construction).
    public let baseLearningRates: [Double]
    /// Steps taken so far (`last_epoch`).
    public private(set) var stepCount = 0

    public init(_ optimizer: any Optimizer, schedule: LRSchedule) throws {
        if let message = schedule.validationError() { throw TorchError.invalidArgument(message) }
        if case .oneCycle = schedule, schedule.momentum(step: 0) != nil, optimizer.momenta == nil {
            throw TorchError.invalidArgument("OneCycleLR: cycleMomentum needs an optimizer with momentum or β1")
        }
        self.optimizer = optimizer
        self.schedule = schedule
        baseLearningRates = optimizer.learningRates
        apply()
    }

    /// Advances one step and sets the new rates.
    public func step() {
        stepCount += 1
        apply()
    }

    /// Resumes at a given step count (after loading a checkpoint).
    public func resume(atStep step: Int) {
        stepCount = step
        apply()
    }

    /// The current rate of each group.
    public var learningRates: [Double] { optimizer.learningRates }

    private func apply() {
        if case .oneCycle = schedule, let first = baseLearningRates.first, first > 0 {
            // One absolute curve for the first group; the others scaled by their base ratio.
            let curve = schedule.learningRate(base: first, step: stepCount)
            optimizer.learningRates = baseLearningRates.map { curve * $0 / first }
        } else {
            optimizer.learningRates = baseLearningRates.map { schedule.learningRate(base: $0, step: stepCount) }
        }
        if let m = schedule.momentum(step: stepCount), let count = optimizer.momenta?.count {
            optimizer.momenta = Array(repeating: m, count: count)
        }
    }
}
