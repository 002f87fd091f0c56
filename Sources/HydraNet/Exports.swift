// `import HydraNet` brings the whole stack: tensors, modules and optimizers, data.
@_exported import HydraData
@_exported import Torch
@_exported import TorchNN
