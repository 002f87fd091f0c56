import Torch

extension HydraNetModel {
    /// A new model of this one's architecture, rebuilt from `spec` (which must describe it;
    /// the test-time flip setting comes from `spec`), with this model's tasks (losses,
    /// standardisation, class names), on `device`, and newly initialised weights drawn from a
    /// throwaway generator (the global generator and this model's are left untouched).
    /// Nothing is shared with this model.
    ///
    /// A custom backbone `spec` cannot rebuild throws ``HydraError/checkpoint(_:)``.
    public func rebuilt(spec: ModelSpec, device: Device = .cpu) throws -> HydraNetModel {
        let copy = try spec.makeModel(generator: Generator(seed: 0))
        for task in tasks { copy.updateTask(task) }
        copy.to(device: device)
        return copy
    }
}
