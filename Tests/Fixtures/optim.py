"""Optimizer, LR-schedule and gradient-clipping parity fixture.

  python optim.py OUT

A 4-8-3 MLP (nn.Sequential(Linear, ReLU, Linear)) with the weights in `init/<key>` is
trained for 20 full-batch steps on x, y (MSE) by each configuration below; the Swift test
(Tests/TorchNNTests/OptimizerTests.swift) mirrors every configuration by name. Keys:
  init/<key>, x, y              the start and the data
  <case>/<key>                  parameters after 20 steps
  <case>/lrs                    group-0 learning rate after each step (float64), if scheduled
"""
import sys

import torch
from safetensors.torch import save_file
from torch import nn
from torch.optim import SGD, Adam, AdamW, RMSprop
from torch.optim import lr_scheduler as S

torch.set_num_threads(1)
torch.manual_seed(7)
model0 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
init = {k: v.clone() for k, v in model0.state_dict().items()}
x = torch.randn(16, 4)
y = torch.randn(16, 3)
out = {f"init/{k}": v for k, v in init.items()}
out["x"], out["y"] = x, y


def fresh():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    m.load_state_dict(init)
    return m


def run(name, make_opt, make_sched=None, clip=None):
    m = fresh()
    opt = make_opt(m)
    sched = make_sched(opt) if make_sched else None
    lrs = []
    for _ in range(20):
        opt.zero_grad()
        nn.functional.mse_loss(m(x), y).backward()
        if clip == "norm":
            nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        elif clip == "value":
            nn.utils.clip_grad_value_(m.parameters(), 0.01)
        opt.step()
        if sched:
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    for k, v in m.state_dict().items():
        out[f"{name}/{k}"] = v
    if sched:
        out[f"{name}/lrs"] = torch.tensor(lrs, dtype=torch.float64)


P = lambda m: m.parameters()
run("sgd", lambda m: SGD(P(m), lr=0.1))
run("sgd_momentum", lambda m: SGD(P(m), lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-2))
run("sgd_nesterov", lambda m: SGD(P(m), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3))
run("sgd_maximize", lambda m: SGD(P(m), lr=0.01, momentum=0.5, maximize=True))
run("adam", lambda m: Adam(P(m), lr=1e-2))
run("adam_wd_amsgrad", lambda m: Adam(P(m), lr=1e-2, betas=(0.8, 0.99), weight_decay=1e-2, amsgrad=True))
run("adamw", lambda m: AdamW(P(m), lr=1e-2, weight_decay=0.1))
run("adamw_amsgrad", lambda m: AdamW(P(m), lr=1e-2, amsgrad=True))
run("rmsprop", lambda m: RMSprop(P(m), lr=1e-2))
run("rmsprop_centered_momentum", lambda m: RMSprop(P(m), lr=1e-3, alpha=0.9, momentum=0.8, centered=True,
                                                    weight_decay=1e-2))
run("sgd_groups", lambda m: SGD([{"params": m[0].parameters(), "lr": 0.1, "weight_decay": 0.01},
                                 {"params": m[2].parameters(), "momentum": 0.9}], lr=0.01))
run("adam_groups", lambda m: Adam([{"params": m[0].parameters()},
                                   {"params": m[2].parameters(), "lr": 1e-3, "weight_decay": 0.1}], lr=1e-2))
S_SGD = lambda m: SGD(P(m), lr=0.1, momentum=0.9)
run("step_lr", S_SGD, lambda o: S.StepLR(o, step_size=5, gamma=0.5))
run("multistep_lr", S_SGD, lambda o: S.MultiStepLR(o, milestones=[3, 8, 15], gamma=0.3))
run("exponential_lr", S_SGD, lambda o: S.ExponentialLR(o, gamma=0.9))
run("cosine_lr", S_SGD, lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-3))
run("linear_lr", S_SGD, lambda o: S.LinearLR(o, start_factor=0.25, total_iters=5))
run("onecycle_sgd", S_SGD, lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=20))
run("onecycle_adam", lambda m: Adam(P(m), lr=1e-2),
    lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=20, anneal_strategy="linear"))
run("sequential_lr", S_SGD, lambda o: S.SequentialLR(
    o, [S.LinearLR(o, start_factor=0.1, total_iters=4), S.CosineAnnealingLR(o, T_max=16)], milestones=[4]))
run("clip_norm", lambda m: SGD(P(m), lr=0.1), clip="norm")
run("clip_value", lambda m: SGD(P(m), lr=0.1), clip="value")
save_file({k: v.contiguous() for k, v in out.items()}, sys.argv[1])
