import Foundation
import Testing
import Torch
import TorchNN

/// Mirrors Tests/Fixtures/optim.py: each case trains the same MLP for 20 steps.
@Suite("optimizers and schedules = PyTorch")
struct OptimizerTests {
    typealias MakeOptimizer = @Sendable (Sequential) throws -> any Optimizer
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let optimizer: MakeOptimizer
        var schedule: LRSchedule?
        var clip: String?
        var testDescription: String { name }
    }

    static func linears(_ m: Sequential) -> (Module, Module) { (m[0], m[2]) }

    static let cases: [Case] = [
        Case(name: "sgd", optimizer: { try SGD($0.parameters(), lr: 0.1) }),
        Case(name: "sgd_momentum", optimizer: {
            try SGD($0.parameters(), .init(lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2))
        }),
        Case(name: "sgd_nesterov", optimizer: {
            try SGD($0.parameters(), lr: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true)
        }),
        Case(name: "sgd_maximize", optimizer: { try SGD($0.parameters(), .init(lr: 0.01, momentum: 0.5, maximize: true)) }),
        Case(name: "adam", optimizer: { try Adam($0.parameters(), .init(lr: 1e-2)) }),
        Case(name: "adam_wd_amsgrad", optimizer: {
            try Adam($0.parameters(), .init(lr: 1e-2, betas: (0.8, 0.99), weightDecay: 1e-2, amsgrad: true))
        }),
        Case(name: "adamw", optimizer: { try Adam.adamW($0.parameters(), lr: 1e-2, weightDecay: 0.1) }),
        Case(name: "adamw_amsgrad", optimizer: { try Adam.adamW($0.parameters(), lr: 1e-2, amsgrad: true) }),
        Case(name: "rmsprop", optimizer: { try RMSprop($0.parameters(), .init(lr: 1e-2)) }),
        Case(name: "rmsprop_centered_momentum", optimizer: {
            try RMSprop($0.parameters(), .init(lr: 1e-3, alpha: 0.9, weightDecay: 1e-2, momentum: 0.8, centered: true))
        }),
        Case(name: "sgd_groups", optimizer: { m in
            let (a, b) = linears(m)
            return try SGD(groups: [ParameterGroup(a.parameters(), .init(lr: 0.1, weightDecay: 0.01)),
                                    ParameterGroup(b.parameters(), .init(lr: 0.01, momentum: 0.9))])
        }),
        Case(name: "adam_groups", optimizer: { m in
            let (a, b) = linears(m)
            return try Adam(groups: [ParameterGroup(a.parameters(), .init(lr: 1e-2)),
                                     ParameterGroup(b.parameters(), .init(lr: 1e-3, weightDecay: 0.1))])
        }),
        Case(name: "step_lr", optimizer: sgdMomentum, schedule: .step(size: 5, gamma: 0.5)),
        Case(name: "multistep_lr", optimizer: sgdMomentum, schedule: .multiStep(milestones: [3, 8, 15], gamma: 0.3)),
        Case(name: "exponential_lr", optimizer: sgdMomentum, schedule: .exponential(gamma: 0.9)),
        Case(name: "cosine_lr", optimizer: sgdMomentum, schedule: .cosineAnnealing(tMax: 10, etaMin: 1e-3)),
        Case(name: "linear_lr", optimizer: sgdMomentum, schedule: .linear(startFactor: 0.25, totalIters: 5)),
        Case(name: "onecycle_sgd", optimizer: sgdMomentum, schedule: .oneCycle(maxLR: 0.5, totalSteps: 20)),
        Case(name: "onecycle_adam", optimizer: { try Adam($0.parameters(), .init(lr: 1e-2)) },
             schedule: .oneCycle(maxLR: 0.05, totalSteps: 20, cosine: false)),
        Case(name: "sequential_lr", optimizer: sgdMomentum,
             schedule: .sequential([.linear(startFactor: 0.1, totalIters: 4), .cosineAnnealing(tMax: 16)],
                                   milestones: [4])),
        Case(name: "clip_norm", optimizer: { try SGD($0.parameters(), lr: 0.1) }, clip: "norm"),
        Case(name: "clip_value", optimizer: { try SGD($0.parameters(), lr: 0.1) }, clip: "value"),
    ]

    static let sgdMomentum: MakeOptimizer = { try SGD($0.parameters(), lr: 0.1, momentum: 0.9) }

    @Test("20 steps end at PyTorch's parameters", arguments: cases)
    func matchesPyTorch(_ c: Case) throws {
        let fx = try PythonReference.fixture("optim")
        let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
        var initial = StateDict()
        for key in model.stateDict().keys { initial[key] = fx["init/\(key)"] }
        try model.loadStateDict(initial)
        let x = fx["x"]!, y = fx["y"]!
        let optimizer = try c.optimizer(model)
        let scheduler = try c.schedule.map { try LRScheduler(optimizer, schedule: $0) }
        var lrs: [Double] = []
        for _ in 0..<20 {
            optimizer.zeroGrad()
            try Functional.mseLoss(model(x), y).backward()
            if c.clip == "norm" { GradientClipping.clipNorm(model.parameters(), maxNorm: 0.5) }
            if c.clip == "value" { GradientClipping.clipValue(model.parameters(), 0.01) }
            optimizer.step()
            if let scheduler {
                scheduler.step()
                lrs.append(optimizer.learningRates[0])
            }
        }
        for (key, value) in model.stateDict() {
            let expected = try #require(fx["\(c.name)/\(key)"])
            expectClose(value, expected, rtol: 1e-5, atol: 1e-7, "\(c.name) \(key)")
        }
        if let expectedLRs = fx["\(c.name)/lrs"] {
            expectClose(Tensor(lrs), expectedLRs, rtol: 1e-10, atol: 1e-14, "\(c.name) learning rates")
        }
    }

    @Test("optimizer state saves and restores: resuming continues the same trajectory")
    func stateRoundTrip() throws {
        let fx = try PythonReference.fixture("optim")
        func model() throws -> Sequential {
            let m = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
            var sd = StateDict()
            for key in m.stateDict().keys { sd[key] = fx["init/\(key)"] }
            try m.loadStateDict(sd)
            return m
        }
        let x = fx["x"]!, y = fx["y"]!
        func train(_ m: Sequential, _ o: any Optimizer, steps: Int) throws {
            for _ in 0..<steps {
                o.zeroGrad()
                try Functional.mseLoss(m(x), y).backward()
                o.step()
            }
        }
        let straight = try model()
        let o1 = try Adam(straight.parameters(), .init(lr: 1e-2, amsgrad: true))
        try train(straight, o1, steps: 10)

        let first = try model()
        let o2 = try Adam(first.parameters(), .init(lr: 1e-2, amsgrad: true))
        try train(first, o2, steps: 5)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("optim-\(getpid()).safetensors").path
        try o2.stateDict().save(safetensors: path)
        let resumed = try model()
        try resumed.loadStateDict(first.stateDict())
        let o3 = try Adam(resumed.parameters(), .init(lr: 1e-2, amsgrad: true))
        try o3.loadStateDict(try StateDict.load(safetensors: path))
        try train(resumed, o3, steps: 5)
        for (k, v) in resumed.stateDict() { #expect(v.equal(straight.stateDict()[k]!), "\(k)") }
    }

    /// The fused kernel (the default) against the op-by-op path, on parameters laid out as
    /// a channels-last model's are, with one gradient laid out differently from its
    /// parameter: that parameter must be left to the op-by-op path, the rest fused, and the
    /// two optimizers must end at the same values.
    @Test("fused Adam = op-by-op Adam, and a parameter its kernel cannot take is updated op by op",
          arguments: [Adam.Options(lr: 1e-2, weightDecay: 0.1, decoupledWeightDecay: true),
                      Adam.Options(lr: 1e-2, betas: (0.8, 0.99), weightDecay: 1e-2, amsgrad: true, maximize: true)])
    func fusedMatchesOpByOp(_ options: Adam.Options) throws {
        let g = Generator(seed: 7)
        let shapes = [[8, 4, 3, 3], [16, 8], [8], [8, 4, 3, 3]]
        let initial = shapes.map { Tensor.randn($0, generator: g) }
        func parameters() -> [Tensor] {
            initial.enumerated().map { i, t in (i == 0 || i == 3 ? t.channelsLast() : t.clone()).requiringGrad() }
        }
        let fusedParameters = parameters(), plainParameters = parameters()
        var plainOptions = options
        plainOptions.fused = false
        let fused = try Adam(fusedParameters, options), plain = try Adam(plainParameters, plainOptions)
        for _ in 0..<5 {
            let grads = shapes.map { Tensor.randn($0, generator: g) }
            for (ps, laidOut) in [(fusedParameters, true), (plainParameters, false)] {
                for (i, p) in ps.enumerated() {
                    // Parameter 3 is channels-last with a contiguous gradient: not for the kernel.
                    p.grad = (i == 0 && laidOut ? grads[i].channelsLast() : grads[i].clone())
                }
            }
            fused.step()
            plain.step()
        }
        for (i, (a, b)) in zip(fusedParameters, plainParameters).enumerated() {
            expectClose(a, b, rtol: 1e-5, atol: 1e-6, "parameter \(i)")
            #expect(!a.equal(initial[i]), "parameter \(i) was not updated")
        }

        // Which parameters the kernel takes, and that it leaves the others untouched.
        let ps = parameters()
        let grads = [ps[0].zerosLike(), Tensor.ones([16, 8]), Tensor.ones([8]), Tensor.ones([8, 4, 3, 3])]
        let before = ps.map { $0.clone() }
        let done = try FusedAdam.step(parameters: ps, gradients: grads, expAvgs: ps.map { $0.zerosLike() },
                                      expAvgSqs: ps.map { $0.zerosLike() }, maxExpAvgSqs: ps.map { $0.zerosLike() },
                                      steps: [1, 1, 1, 1],
                                      .init(lr: 0.1, beta1: 0.9, beta2: 0.999, weightDecay: 0, eps: 1e-8, amsgrad: false,
                                            maximize: false, decoupledWeightDecay: true))
        #expect(done == [true, true, true, false])
        #expect(ps[3].equal(before[3]), "a parameter the kernel did not take was changed")
        #expect(!ps[1].equal(before[1]))
        #expect(throws: TorchError.self) {
            try FusedAdam.step(parameters: ps, gradients: [], expAvgs: [], expAvgSqs: [], maxExpAvgSqs: [], steps: [],
                               .init(lr: 0.1, beta1: 0.9, beta2: 0.999, weightDecay: 0, eps: 1e-8, amsgrad: false,
                                     maximize: false, decoupledWeightDecay: true))
        }
    }

    @Test("invalid options and schedules throw")
    func invalid() {
        #expect(throws: TorchError.self) { try SGD([], lr: -1) }
        #expect(throws: TorchError.self) { try SGD([], lr: 0.1, nesterov: true) }
        #expect(throws: TorchError.self) { try Adam([], .init(betas: (1.0, 0.9))) }
        #expect(throws: TorchError.self) { try LRScheduler(try SGD([], lr: 0.1), schedule: .step(size: 0)) }
        #expect(throws: TorchError.self) {
            try LRScheduler(try SGD([], lr: 0.1), schedule: .sequential([.constant], milestones: [3]))
        }
        #expect(throws: (any Error).self) {
            try Adam([Tensor.zeros([2])], .init()).loadStateDict(StateDict([("state.0.0.exp_avg", Tensor.zeros([3]))]))
        }
    }
}
