"""torchjd reference aggregations for the Swift gradient aggregators.

  python torchjd_aggregators.py OUT

torchjd (the version scripts/deps.env pins) aggregates 50 seeded random Jacobians with 2-6
tasks, in float64: generic ones, rank-deficient ones (fewer columns than rows, duplicated,
zero, exactly collinear and linearly combined rows), strongly conflicting ones, rows of very
different scales, tiny ones (||J||_F^2 < 1e-4) and an all-zero one. The Swift test
(Tests/HydraNetTests/AggregatorTorchJDTests.swift) compares every deterministic aggregator.

Keys (k = case index):
  c{k}/J                          the Jacobian (T x P, float64)
  c{k}/{method}/update            torchjd's aggregation
  c{k}/{method}/weights           the weights torchjd's Weighting gives (where it has one)
  c{k}/nash/alpha                 Nash-MTL's unclipped alpha; c{k}/nash/converged (0/1) when
                                  max |alpha_i (G alpha)_i - 1| < 1e-5 (the fixed point it converges
                                  to: the official code's ||G||_F normalisation cancels out)
  c{k}/fairgrad/residual          max_i |w_i^(1/a) (G w)_i - 1| of scipy's least-squares solution
  seq/{name}/J{s}, seq/{name}/{s}/update|weights   stateful aggregators (GradVac, ExcessMTL, PCD,
                                  CR-MOGM around UPGrad and MGDA) over 4 steps
Metadata: "cases" (the count) and "kind.{k}" (what kind of Jacobian case k is).
"""
import sys
import warnings

import numpy as np
import torch
from safetensors.torch import save_file
from torchjd.aggregation import (
    IMTLG, MGDA, PCD, CRMOGMWeighting, GramianWeightedAggregator, AlignedMTL, AlignedMTLWeighting, CAGrad, CAGradWeighting, ConFIG, Constant,
    DualProj, DualProjWeighting, ExcessMTL, FairGrad, FairGradWeighting, GradVac, GradVacWeighting,
    IMTLGWeighting, Krum, KrumWeighting, Mean, MGDAWeighting, NashMTL, PCGrad, PCGradWeighting,
    Sum, TrimmedMean, UPGrad, UPGradWeighting,
)

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
torch.manual_seed(0)
gen = torch.Generator().manual_seed(2024)
D = torch.float64


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=D)


def randint(lo, hi):
    return int(torch.randint(lo, hi, (1,), generator=gen))


cases = []  # (kind, J)
for _ in range(20):
    t, p = randint(2, 7), [3, 5, 10, 20][randint(0, 4)]
    cases.append(("generic", randn(t, p)))
for t, p in [(4, 2), (6, 3), (5, 1), (3, 2)]:
    cases.append(("wide-rank-deficient", randn(t, p)))
for _ in range(4):
    t = randint(3, 7)
    J = randn(t, 8)
    i, j = randint(0, t), randint(0, t - 1)
    j = j if j < i else j + 1
    J[j] = J[i]
    cases.append(("duplicated-row", J))
for _ in range(4):
    t = randint(2, 7)
    J = randn(t, 6)
    J[randint(0, t)] = 0
    cases.append(("zero-row", J))
for scale in [2.0, -1.0, 0.5, -2.0]:
    t = randint(3, 7)
    J = randn(t, 7)
    J[t - 1] = scale * J[0]
    cases.append((f"collinear({scale})", J))
for _ in range(2):
    t = randint(3, 7)
    J = randn(t, 9)
    J[t - 1] = J[0] + J[1]
    cases.append(("linear-combination", J))
for _ in range(6):
    # A small shared direction plus large pairwise-opposite components.
    t = randint(2, 7)
    shared = randn(1, 10) * 0.1
    J = shared.repeat(t, 1)
    for r in range(t):
        J[r] += (1 if r % 2 == 0 else -1) * 3.0 * randn(10) * 0.3 + (1 if r % 2 == 0 else -1) * torch.linspace(1, 2, 10, dtype=D)
    cases.append(("conflicting", J))
for _ in range(3):
    t = randint(2, 7)
    J = randn(t, 8) * torch.logspace(-2, 2, t, dtype=D).unsqueeze(1)
    cases.append(("scales", J))
for _ in range(2):
    t = randint(2, 7)
    cases.append(("tiny", randn(t, 5) * 1e-3))
cases.append(("all-zero", torch.zeros(3, 4, dtype=D)))
assert len(cases) == 50, len(cases)

out = {}
meta = {"cases": str(len(cases))}


def put(key, value):
    out[key] = torch.as_tensor(value, dtype=D).clone().contiguous()


for k, (kind, J) in enumerate(cases):
    meta[f"kind.{k}"] = kind
    t = J.shape[0]
    G = J @ J.T
    put(f"c{k}/J", J)

    def run(name, aggregator, weighting=None):
        try:
            update = aggregator(J)
            weights = weighting(G) if weighting is not None else None
        except Exception as e:  # recorded; the Swift test then checks only finiteness
            meta[f"failed.{k}.{name}"] = f"{type(e).__name__}: {e}"
            return
        put(f"c{k}/{name}/update", update)
        if weights is not None:
            put(f"c{k}/{name}/weights", weights)

    run("mean", Mean(), lambda G: torch.full((t,), 1.0 / t, dtype=D))
    run("sum", Sum(), lambda G: torch.ones(t, dtype=D))
    cw = torch.arange(1, t + 1, dtype=D) / t
    run("constant", Constant(cw), lambda G: cw)
    run("mgda", MGDA(), MGDAWeighting())
    run("upgrad", UPGrad(), UPGradWeighting())
    run("dualproj", DualProj(), DualProjWeighting())
    run("imtlg", IMTLG(), IMTLGWeighting())
    for mode in ["min", "median", "rmse"]:
        run(f"aligned_{mode}", AlignedMTL(scale_mode=mode), AlignedMTLWeighting(scale_mode=mode))
    run("cagrad", CAGrad(c=0.5), CAGradWeighting(c=0.5))
    run("config", ConFIG())
    for a in [1.0, 2.0]:
        name = "fairgrad" if a == 1.0 else "fairgrad2"
        run(name, FairGrad(alpha=a), FairGradWeighting(alpha=a))
        w = out[f"c{k}/{name}/weights"]
        live = w > 0
        rel = (w[live] ** (1.0 / a) * (G @ w)[live] - 1).abs().max() if live.any() else torch.tensor(1.0)
        put(f"c{k}/{name}/residual", rel)
    def run_nash():
        nash = NashMTL(n_tasks=t)
        try:
            update = nash(J)
        except Exception as e:
            meta[f"failed.{k}.nash"] = f"{type(e).__name__}: {e}"
            return
        put(f"c{k}/nash/update", update)
        alpha = torch.as_tensor(np.asarray(nash.weighting.prvs_alpha, dtype=np.float64))
        put(f"c{k}/nash/alpha", alpha)
        residual = (alpha * (G @ alpha) - 1).abs().max()
        put(f"c{k}/nash/converged", float(residual < 1e-5))

    run_nash()
    # Methods without a reference for this case say why (the Swift test fails on any method
    # that has neither a reference, a recorded failure nor a reason here).
    if t >= 3:
        byz, sel = (1, 2) if t >= 4 else (0, 1)
        run("krum", Krum(n_byzantine=byz, n_selected=sel), KrumWeighting(n_byzantine=byz, n_selected=sel))
        run("trimmed_mean", TrimmedMean(trim_number=1))
    else:
        meta[f"skip.{k}.krum"] = meta[f"skip.{k}.trimmed_mean"] = "torchjd needs at least 3 tasks"
    if t == 2:  # deterministic: one other task to visit
        run("pcgrad", PCGrad(), PCGradWeighting())
        run("gradvac", GradVac(), GradVacWeighting())
    else:
        meta[f"skip.{k}.pcgrad"] = meta[f"skip.{k}.gradvac"] = "random visiting order for more than 2 tasks"
    run("pcd", PCD(), PCD().gramian_weighting)
    run("excess_mtl", ExcessMTL(), lambda G: ExcessMTL().weighting(J))

# Stateful aggregators over a sequence of 4 Jacobians (the same instance throughout).
seq_gen = torch.Generator().manual_seed(99)
for name, make, t, p in [
    ("gradvac", lambda: GradVac(), 2, 6),
    ("excess_mtl", lambda: ExcessMTL(), 3, 6),
    ("excess_mtl_warmup", lambda: ExcessMTL(n_warmup_steps=2), 3, 6),
    ("pcd", lambda: PCD(), 3, 6),
    ("pcd_tau", lambda: PCD(tau=0.3, beta=0.9), 4, 6),
    ("crmogm_upgrad", lambda: GramianWeightedAggregator(CRMOGMWeighting(UPGradWeighting())), 3, 6),
    ("crmogm_mgda", lambda: GramianWeightedAggregator(CRMOGMWeighting(MGDAWeighting(), alpha=0.5)), 3, 6),
]:
    agg = make()
    weighting = make()
    for s in range(4):
        J = torch.randn(t, p, generator=seq_gen, dtype=D)
        if s == 2:
            J[1] *= 10.0
        put(f"seq/{name}/J{s}", J)
        put(f"seq/{name}/{s}/update", agg(J))
        w = weighting.weighting(J) if hasattr(weighting, "weighting") and name.startswith("excess") \
            else weighting.gramian_weighting(J @ J.T)
        put(f"seq/{name}/{s}/weights", w)

save_file(out, sys.argv[1], metadata=meta)
