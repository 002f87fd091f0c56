"""Layer parity fixture for Tests/TorchNNTests/LayerTests.swift.

  python nn_layers.py OUT

Per case: the layer's state dict before the forward (<case>/sd/<key>), the input
(<case>/x), the output after `passes` forwards (<case>/out; the last pass), the upstream
gradient (<case>/gw), the input gradient (<case>/gx, float inputs only), parameter
gradients (<case>/grad/<name>) and buffers after the forwards (<case>/after/<name>).
Random state is re-seeded per case so that dropout can be reproduced.
"""
import sys

import torch
from safetensors.torch import save_file
from torch import nn

torch.set_num_threads(1)
OUT = {}


def case(name, make, x, train=True, passes=1, seed=0, randomize=True):
    torch.manual_seed(1000 + len(OUT))
    layer = make()
    if randomize:
        with torch.no_grad():
            for pname, p in layer.named_parameters():
                if pname.endswith("weight") and p.dim() == 1 or pname.endswith("bias"):
                    p.normal_()
            for bname, b in layer.named_buffers():
                if bname.endswith("running_mean"):
                    b.normal_()
                elif bname.endswith("running_var"):
                    b.uniform_(0.5, 2.0)
    for k, v in layer.state_dict().items():
        OUT[f"{name}/sd/{k}"] = v.clone()
    layer.train(train)
    OUT[f"{name}/x"] = x
    xin = x.clone().requires_grad_(x.is_floating_point())
    torch.manual_seed(seed)
    for _ in range(passes):
        out = layer(xin)
    OUT[f"{name}/out"] = out.detach()
    gw = torch.randn_like(out)
    OUT[f"{name}/gw"] = gw
    (out * gw).sum().backward()
    if x.is_floating_point():
        OUT[f"{name}/gx"] = xin.grad
    for pname, p in layer.named_parameters():
        OUT[f"{name}/grad/{pname}"] = p.grad if p.grad is not None else torch.zeros_like(p)
    for bname, b in layer.named_buffers():
        OUT[f"{name}/after/{bname}"] = b.clone()


torch.manual_seed(0)
r = torch.randn
case("linear", lambda: nn.Linear(5, 4), r(3, 5))
case("linear_nobias", lambda: nn.Linear(5, 4, bias=False), r(2, 3, 5))
case("conv2d", lambda: nn.Conv2d(3, 6, 3, stride=2, padding=1), r(2, 3, 9, 9))
case("conv2d_groups", lambda: nn.Conv2d(4, 8, 3, padding=2, dilation=2, groups=2, bias=False), r(2, 4, 7, 7))
case("bn1d_train", lambda: nn.BatchNorm1d(4), r(8, 4))
case("bn1d_3d_train", lambda: nn.BatchNorm1d(4), r(8, 4, 5))
case("bn2d_train", lambda: nn.BatchNorm2d(3), r(4, 3, 5, 5), passes=2)
case("bn2d_eval", lambda: nn.BatchNorm2d(3), r(4, 3, 5, 5), train=False)
case("bn2d_cumulative", lambda: nn.BatchNorm2d(3, momentum=None), r(4, 3, 5, 5), passes=3)
case("bn2d_no_affine", lambda: nn.BatchNorm2d(3, affine=False, momentum=0.3), r(4, 3, 5, 5))
case("bn2d_no_stats", lambda: nn.BatchNorm2d(3, track_running_stats=False), r(4, 3, 5, 5), train=False)
case("layernorm", lambda: nn.LayerNorm([5]), r(3, 4, 5))
case("layernorm_2d", lambda: nn.LayerNorm([4, 5]), r(3, 4, 5))
case("groupnorm", lambda: nn.GroupNorm(2, 4), r(3, 4, 5, 5))
case("dropout_eval", lambda: nn.Dropout(0.3), r(4, 6), train=False)
case("dropout_train", lambda: nn.Dropout(0.3), r(4, 6), seed=123)
case("relu", lambda: nn.ReLU(), r(3, 7))
case("leakyrelu", lambda: nn.LeakyReLU(0.2), r(3, 7))
case("gelu", lambda: nn.GELU(), r(3, 7))
case("gelu_tanh", lambda: nn.GELU(approximate="tanh"), r(3, 7))
case("silu", lambda: nn.SiLU(), r(3, 7))
case("sigmoid", lambda: nn.Sigmoid(), r(3, 7))
case("tanh", lambda: nn.Tanh(), r(3, 7))
case("maxpool", lambda: nn.MaxPool2d(3, 2, 1), r(2, 3, 8, 8))
case("avgpool", lambda: nn.AvgPool2d(2), r(2, 3, 8, 8))
case("adaptive_1x1", lambda: nn.AdaptiveAvgPool2d((1, 1)), r(2, 3, 7, 7))
case("adaptive_2x3", lambda: nn.AdaptiveAvgPool2d((2, 3)), r(2, 3, 7, 7))
case("flatten", lambda: nn.Flatten(), r(2, 3, 4))
case("identity", lambda: nn.Identity(), r(2, 3))
case("embedding", lambda: nn.Embedding(10, 3), torch.tensor([[1, 2, 9], [0, 2, 2]]))
case("sequential", lambda: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), r(5, 4))
save_file({k: v.contiguous() for k, v in OUT.items()}, sys.argv[1])
