"""Reference values for the op parity suite (Tests/TorchTests/OpParityTests.swift).

Usage: python ops.py OUTPUT.safetensors

Every case is one call of `case(name, fn, *inputs, nodiff=...)`; the Swift suite has a
closure with the same name that does what `fn` does. Keys in the output file:

  <case>/in<i>     input i, as fed to fn (float32 unless the case needs ints/bools/f64)
  <case>/out<k>    output k of fn (fn may return one tensor or a list/tuple of tensors)
  <case>/gw<k>     random upstream gradient for output k; present only in differentiable
                   cases, and only for float outputs that require grad
  <case>/grad<i>   d/d(in<i>) of  sum_k (out<k> * gw<k>).sum()  (terms in k order);
                   present exactly for the inputs that require grad: float inputs of a
                   differentiable case that are not listed in `nodiff`. An input that
                   requires grad but does not reach the outputs gets zeros here (Swift
                   compares a nil .grad with zeros).

So the Swift side sets `requiresGrad` on input i iff `<case>/grad<i>` exists. Cases with no
`grad` keys are checked forward only (creation, comparisons, integer results, ...); a case
whose outputs are all non-float (argmax, ...) has no gw/grad keys either.
Inputs are saved before fn runs (fn may update some in place, e.g. batch-norm running
stats, which are then returned as extra outputs). Case names never contain '/'.
Non-contiguous inputs are made inside fn (x.t(), permute, slicing) so that both sides see
the same layout. Cases that draw random numbers call torch.manual_seed inside fn.
"""
import math
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(20240601)
torch.set_num_threads(1)

OUT = {}
NAMES = []


def case(name, fn, *inputs, nodiff=(), diff=True):
    assert "/" not in name and name not in NAMES, name
    NAMES.append(name)
    saved = [t.detach().clone() for t in inputs]
    leaves = []
    for i, t in enumerate(inputs):
        t = t.detach().clone()
        if diff and t.is_floating_point() and i not in nodiff:
            t.requires_grad_(True)
        leaves.append(t)
    outs = fn(*leaves)
    if isinstance(outs, torch.Tensor):
        outs = [outs]
    outs = list(outs)
    for i, t in enumerate(saved):
        OUT[f"{name}/in{i}"] = t.contiguous()
    for k, o in enumerate(outs):
        OUT[f"{name}/out{k}"] = o.detach().clone().contiguous()
    if any(l.requires_grad for l in leaves):
        total = None
        for k, o in enumerate(outs):
            if o.is_floating_point() and o.requires_grad:
                gw = torch.randn(o.shape, dtype=o.dtype)
                OUT[f"{name}/gw{k}"] = gw
                term = (o * gw).sum()
                total = term if total is None else total + term
        if total is None:  # integer/bool results only (argmax, ...): forward check only
            return
        total.backward()
        for i, l in enumerate(leaves):
            if l.requires_grad:
                g = l.grad if l.grad is not None else torch.zeros_like(l)
                OUT[f"{name}/grad{i}"] = g.detach().clone().contiguous()


def r(*shape):
    return torch.randn(*shape)


def pos(*shape):
    """Strictly positive values in [0.5, 1.5)."""
    return torch.rand(*shape) + 0.5


def away(*shape):
    """Normal values pushed away from 0 (for abs/sign/relu-like kinks)."""
    x = torch.randn(*shape)
    return x + 0.1 * torch.sign(x)


def ints(lo, hi, *shape):
    return torch.randint(lo, hi, shape)


def mask(*shape):
    return torch.rand(*shape) < 0.5


def seeded(seed, fn):
    def run(*args):
        torch.manual_seed(seed)
        return fn(*args)
    return run


# ---------------------------------------------------------------------------------------
# Creation (deterministic)
case("zeros", lambda: torch.zeros(2, 3))
case("zeros_int64", lambda: torch.zeros(2, 3, dtype=torch.int64))
case("ones", lambda: torch.ones(4))
case("ones_f64", lambda: torch.ones(2, 2, dtype=torch.float64))
case("full", lambda: torch.full((2, 3), 1.5))
case("full_integer", lambda: torch.full((3,), 7))
case("arange_int", lambda: torch.arange(0, 10, 3))
case("arange_end_only", lambda: torch.arange(5))
case("arange_float32", lambda: torch.arange(0.0, 1.0, 0.1))
case("arange_float_infers_dtype", lambda: torch.arange(0, 1, 0.25))
case("linspace", lambda: torch.linspace(-1, 1, 7))
case("eye", lambda: torch.eye(3))
case("eye_rect", lambda: torch.eye(2, 4))
case("from_array_f32", lambda: torch.tensor([[1.5, -2.0], [3.0, 4.25]]))
case("from_array_f64", lambda: torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64))
case("from_array_int", lambda: torch.tensor([1, -2, 3]))
case("from_array_int32", lambda: torch.tensor([[1, 2], [3, 4]], dtype=torch.int32))
case("from_array_bool", lambda: torch.tensor([True, False, True]))
case("from_array_uint8", lambda: torch.tensor([0, 255, 7], dtype=torch.uint8))
case("scalar_tensor", lambda: torch.tensor(2.5))
case("zeros_like_ones_like_full_like", lambda x: [torch.zeros_like(x), torch.ones_like(x), torch.full_like(x, -3.0)],
     r(2, 3), diff=False)
# Random creation: same seed, same numbers as Python.
case("randn_seed0", seeded(0, lambda: torch.randn(3, 4)))
case("randn_large", seeded(1, lambda: torch.randn(5, 7)))  # >= 16 elements: vectorised path
case("rand_seed", seeded(2, lambda: torch.rand(3, 4)))
case("randint_seed", seeded(3, lambda: torch.randint(0, 10, (3, 4))))
case("randint_low", seeded(3, lambda: torch.randint(-5, 5, (20,))))
case("randperm_seed", seeded(4, lambda: torch.randperm(10)))
case("rng_sequence", seeded(5, lambda: [torch.randn(3), torch.rand(2), torch.randn(17), torch.randperm(6)]))

# ---------------------------------------------------------------------------------------
# Shape
case("reshape", lambda x: x.reshape(4, -1), r(2, 3, 4))
case("reshape_noncontig", lambda x: x.t().reshape(-1), r(3, 4))
case("view", lambda x: x.view(6, 4), r(2, 3, 4))
case("permute", lambda x: x.permute(2, 0, 1), r(2, 3, 4))
case("permute_negative", lambda x: x.permute(-1, 0, -2), r(2, 3, 4))
case("transpose", lambda x: x.transpose(0, -1), r(2, 3, 4))
case("t_2d", lambda x: x.T, r(3, 4))
case("squeeze_all", lambda x: x.squeeze(), r(2, 1, 3, 1))
case("squeeze_dim_negative", lambda x: x.squeeze(-1), r(2, 1, 3, 1))
case("unsqueeze", lambda x: x.unsqueeze(1), r(2, 3))
case("unsqueeze_negative", lambda x: x.unsqueeze(-1), r(2, 3))
case("expand", lambda x: x.expand(2, 3, 4), r(3, 1))
case("expand_keep", lambda x: x.expand(-1, 5), r(3, 1))
case("broadcast_to", lambda x: torch.broadcast_to(x, (2, 3, 4)), r(1, 4))
case("expand_as", lambda x, y: x.expand_as(y), r(3, 1), r(2, 3, 4), nodiff=(1,))
case("flatten_all", lambda x: x.flatten(), r(2, 3, 2, 2))
case("flatten_from1", lambda x: x.flatten(1), r(2, 3, 2, 2))
case("flatten_1_2", lambda x: x.flatten(1, 2), r(2, 3, 2, 2))
case("flatten_noncontig", lambda x: x.transpose(0, 1).flatten(1), r(2, 3, 4))
# Slicing (views)
case("slice_rows", lambda x: x[1:3, :], r(4, 5))
case("slice_step", lambda x: x[::2, 1:], r(4, 5))
case("slice_step_stride", lambda x: x[:, 0:5:2], r(4, 5))
case("slice_negative_start", lambda x: x[:, -2:], r(4, 5))
case("slice_upto_through", lambda x: [x[:2], x[:, :3], x[1:3, 0:2]], r(4, 5))
case("slice_noncontig", lambda x: x.t()[1:3], r(4, 5))
case("slice_ellipsis_newaxis", lambda x: x[..., None, 1], r(2, 3, 4))
case("select_narrow", lambda x: [x.select(1, -1), x.narrow(0, 1, 2)], r(3, 4))
# Integer indexing
case("index_int", lambda x: x[2], r(4, 5))
case("index_negative", lambda x: x[-1], r(4, 5))
case("index_int_pair", lambda x: x[1, -1], r(4, 5))
case("index_int_after_slice", lambda x: x[1:, 2], r(4, 5))
# Boolean mask indexing
case("index_mask_full", lambda x, m: x[m], r(3, 4), mask(3, 4))
case("index_mask_rows", lambda x, m: x[m], r(4, 3), torch.tensor([True, False, True, True]))
case("index_mask_cols", lambda x, m: x[:, m], r(3, 4), torch.tensor([False, True, True, False]))
# Tensor (advanced) indexing
case("index_tensor_rows", lambda x, i: x[i], r(4, 3), torch.tensor([2, 0, 2]))
case("index_tensor_cols", lambda x, i: x[:, i], r(3, 4), torch.tensor([3, 1]))
case("index_tensor_2d", lambda x, i: x[i], r(4, 3), torch.tensor([[0, 1], [3, 3]]))
case("index_tensor_noncontig", lambda x, i: x.t()[i], r(3, 4), torch.tensor([1, 3]))


# Index assignment
def put_slice(x, v):
    y = x.clone()
    y[1:3, :] = v
    return y


def put_int_scalar(x):
    y = x.clone()
    y[0] = 5.0
    return y


def put_mask(x, m, v):
    y = x.clone()
    y[m] = v
    return y


def put_mask_scalar(x, m):
    y = x.clone()
    y[m] = -1.0
    return y


def put_tensor(x, i, v):
    y = x.clone()
    y[i] = v
    return y


def put_broadcast(x, v):
    y = x.clone()
    y[:, 1] = v
    return y


case("setitem_slice", put_slice, r(4, 3), r(2, 3))
case("setitem_int_scalar", put_int_scalar, r(3, 4))
_m = mask(3, 4)
case("setitem_mask", put_mask, r(3, 4), _m, r(int(_m.sum())))
case("setitem_mask_scalar", put_mask_scalar, r(3, 4), mask(3, 4))
case("setitem_tensor", put_tensor, r(5, 2), torch.tensor([4, 0, 2]), r(3, 2))
case("setitem_broadcast", put_broadcast, r(3, 4), r(1))
# Joining and splitting
case("cat_dim0", lambda a, b: torch.cat([a, b], 0), r(2, 3), r(4, 3))
case("cat_negative", lambda a, b, c: torch.cat([a, b, c], -1), r(2, 3), r(2, 1), r(2, 2))
case("cat_noncontig", lambda a, b: torch.cat([a.t(), b], 0), r(3, 2), r(1, 3))
case("stack_dim1", lambda a, b: torch.stack([a, b], 1), r(2, 3), r(2, 3))
case("stack_negative", lambda a, b: torch.stack([a, b], -1), r(2, 3), r(2, 3))
case("split_size", lambda x: x.split(2), r(5, 4))
case("split_size_negative_dim", lambda x: x.split(3, dim=-1), r(2, 5))
case("split_sizes", lambda x: x.split([1, 4]), r(5, 4))
case("split_sizes_dim1", lambda x: x.split([1, 2, 1], dim=1), r(3, 4))
case("chunk", lambda x: x.chunk(3), r(5, 4))
case("chunk_negative_dim", lambda x: x.chunk(2, dim=-1), r(3, 4))
# Gather/scatter family
case("index_select", lambda x, i: x.index_select(0, i), r(4, 5), torch.tensor([3, 0, 3]))
case("index_select_negative", lambda x, i: x.index_select(-1, i), r(4, 5), torch.tensor([4, 1]))
case("gather_dim1", lambda x, i: x.gather(1, i), r(3, 4), ints(0, 4, 3, 2))
case("gather_dim0", lambda x, i: x.gather(0, i), r(3, 4), ints(0, 3, 2, 4))
case("gather_noncontig", lambda x, i: x.t().gather(-1, i), r(3, 4), ints(0, 3, 4, 2))
_sidx = torch.tensor([[0, 1, 2, 0, 1], [2, 0, 1, 1, 2]])  # no duplicates within a column
case("scatter_src", lambda x, i, s: x.scatter(0, i, s), r(3, 5), _sidx, r(2, 5))
case("scatter_value", lambda x, i: x.scatter(0, i, 2.5), r(3, 5), _sidx)
case("scatter_add", lambda x, i, s: x.scatter_add(1, i, s), r(3, 4), ints(0, 4, 3, 6), r(3, 6))
case("masked_fill", lambda x, m: x.masked_fill(m, -1.5), r(3, 4), mask(3, 4))
case("masked_fill_broadcast", lambda x, m: x.masked_fill(m, 0.0), r(3, 4), mask(4))
case("where_broadcast", lambda c, a, b: torch.where(c, a, b), mask(2, 4), r(3, 1, 4), r(4))
case("repeat", lambda x: x.repeat(2, 1, 3), r(2, 3))
case("flip", lambda x: x.flip(0, -1), r(2, 3, 4))

# ---------------------------------------------------------------------------------------
# Elementwise math
case("add_broadcast", lambda a, b: a + b, r(3, 1, 4), r(2, 4))
case("sub_broadcast", lambda a, b: a - b, r(3, 1, 4), r(2, 4))
case("mul_broadcast", lambda a, b: a * b, r(3, 1, 4), r(2, 4))
case("div_broadcast", lambda a, b: a / b, r(3, 1, 4), pos(2, 4))
case("add_noncontig", lambda a, b: a.t() + b, r(4, 3), r(3, 4))
case("mul_noncontig", lambda a, b: a.permute(1, 0, 2) * b[:, ::2], r(2, 3, 4), r(2, 8))
case("add_scalar", lambda x: x + 2.5, r(3, 4))
case("radd_scalar", lambda x: 2.5 + x, r(3, 4))
case("sub_scalar", lambda x: x - 1.5, r(3, 4))
case("rsub_scalar", lambda x: 1.5 - x, r(3, 4))
case("mul_scalar", lambda x: x * 3.0, r(3, 4))
case("rmul_scalar", lambda x: 3.0 * x, r(3, 4))
case("div_scalar", lambda x: x / 4.0, r(3, 4))
case("rdiv_scalar", lambda x: 4.0 / x, pos(3, 4))
case("add_scalar_int64_keeps_dtype", lambda x: [x + 2, x * 3, x - 1], ints(-5, 5, 3, 4))
case("int_scalars_both_sides", lambda x: [2 + x, 3 * x, 10 - x, x / 2, 8 / x, x.pow(2)], ints(1, 5, 3, 4))
case("float_tensor_int_float_scalars", lambda x: [x * 2, 2 - x, x / 4, 3 + x, x - 1, x * 0.5], r(3, 4))
case("add_mixed_dtype_promotes", lambda a, b: a + b, ints(-5, 5, 3), r(3), diff=False)
case("neg", lambda x: -x, r(3, 4))
case("pow_tensor", lambda a, b: a.pow(b), pos(3, 1, 4), r(2, 4))
case("pow_scalar", lambda x: x.pow(3.0), r(3, 4))
case("pow_scalar_fractional", lambda x: x.pow(0.5), pos(3, 4))
case("exp", lambda x: x.exp(), r(3, 4))
case("log", lambda x: x.log(), pos(3, 4))
case("sqrt", lambda x: x.sqrt(), pos(3, 4))
case("abs", lambda x: x.abs(), away(3, 4))
case("abs_noncontig", lambda x: x.t().abs(), away(3, 4))
case("clamp_both", lambda x: x.clamp(-0.5, 0.5), away(4, 5))
case("clamp_min", lambda x: x.clamp(min=0.25), away(4, 5))
case("clamp_max", lambda x: x.clamp(max=-0.25), away(4, 5))
case("clamp_tensor", lambda x, lo, hi: x.clamp(lo, hi), r(3, 4), r(4) - 1.0, r(3, 1) + 1.0)
case("sign", lambda x: x.sign(), away(3, 4))
# Comparisons and logic
_x = r(3, 4)
_y = torch.where(mask(3, 4), _x, r(3, 4))  # about half the elements equal
case("cmp_tensor_ops", lambda x, y: [x == y, x != y, x < y, x <= y, x > y, x >= y], _x, _y, diff=False)
case("cmp_tensor_methods", lambda x, y: [x.eq(y), x.ne(y), x.lt(y), x.le(y), x.gt(y), x.ge(y)], _x, _y,
     diff=False)
case("cmp_broadcast", lambda x, y: x < y, r(3, 1, 4), r(2, 4), diff=False)
case("cmp_scalar_ops", lambda x: [x == 0.5, x != 0.5, x < 0.0, x <= 0.5, x > 0.0, x >= -0.5],
     torch.tensor([[0.5, -1.0, 0.0], [2.0, -0.5, 0.25]]), diff=False)
case("cmp_scalar_methods", lambda x: [x.eq(0.5), x.ne(0.5), x.lt(0.0), x.le(0.5), x.gt(0.0), x.ge(-0.5)],
     torch.tensor([[0.5, -1.0, 0.0], [2.0, -0.5, 0.25]]), diff=False)
case("logical_ops", lambda a, b: [a.logical_and(b), a.logical_or(b), a.logical_not(), a.logical_xor(b)],
     mask(3, 4), mask(3, 4))
case("logical_broadcast", lambda a, b: [a.logical_and(b), a.logical_or(b)], mask(3, 1), mask(4))
case("logical_float_inputs", lambda a, b: [a.logical_and(b), a.logical_or(b), a.logical_not()],
     torch.tensor([0.0, 1.5, -2.0, 0.0]), torch.tensor([0.0, 0.0, 3.0, 1.0]), diff=False)
_special = torch.tensor([1.0, math.inf, -math.inf, math.nan, 0.0, -2.5])
case("isfinite_isnan", lambda x: [x.isfinite(), x.isnan(), x.isinf()], _special, diff=False)
case("isfinite_from_ops", lambda x: [(x.log()).isfinite(), (x.log()).isnan()],
     torch.tensor([1.0, 0.0, -1.0, 2.0]), diff=False)
case("maximum_broadcast", lambda a, b: torch.maximum(a, b), r(3, 1, 4), r(2, 4))
case("minimum_broadcast", lambda a, b: torch.minimum(a, b), r(3, 1, 4), r(2, 4))

# ---------------------------------------------------------------------------------------
# Reductions
case("sum_all", lambda x: x.sum(), r(3, 4, 5))
case("sum_dim", lambda x: x.sum(1), r(3, 4, 5))
case("sum_dims_keepdim", lambda x: x.sum((0, 2), keepdim=True), r(3, 4, 5))
case("sum_negative_dim", lambda x: x.sum(-1), r(3, 4, 5))
case("sum_noncontig", lambda x: x.t().sum(0), r(3, 4))
case("sum_all_keepdim", lambda x: x.sum(dim=(0, 1), keepdim=True), r(3, 4))
case("sum_int64", lambda x: [x.sum(), x.sum(0)], ints(-5, 5, 3, 4))
case("sum_bool", lambda m: m.sum(), mask(3, 4))
case("mean_all", lambda x: x.mean(), r(3, 4, 5))
case("mean_dim_keepdim", lambda x: x.mean(-1, keepdim=True), r(3, 4, 5))
case("mean_dims", lambda x: x.mean((0, 1)), r(3, 4, 5))
case("max_dim", lambda x: x.max(1), r(3, 4, 5))
case("max_dim_keepdim_negative", lambda x: x.max(-1, keepdim=True), r(3, 4, 5))
case("min_dim", lambda x: x.min(0), r(3, 4, 5))
case("min_dim_keepdim_negative", lambda x: x.min(-2, keepdim=True), r(3, 4, 5))
case("max_min_all", lambda x: [x.max(), x.min()], r(3, 4))
case("amax_amin", lambda x: [x.amax((0, 2)), x.amin(-1, keepdim=True)], r(3, 4, 5))
case("argmax_all", lambda x: x.argmax(), r(3, 4, 5))
case("argmax_dim", lambda x: x.argmax(1), r(3, 4, 5))
case("argmax_dim_keepdim_negative", lambda x: x.argmax(-1, keepdim=True), r(3, 4, 5))
case("argmin_dim", lambda x: [x.argmin(), x.argmin(0)], r(3, 4, 5))
case("var_all", lambda x: x.var(), r(3, 4, 5))
case("var_dims_keepdim", lambda x: x.var((0, 2), keepdim=True), r(3, 4, 5))
case("var_correction0_negative", lambda x: x.var(-1, correction=0), r(3, 4, 5))
case("std_all", lambda x: x.std(), r(3, 4, 5))
case("std_dim_keepdim", lambda x: x.std(1, keepdim=True), r(3, 4, 5))
case("std_correction0", lambda x: x.std((0, 1), correction=0), r(3, 4, 5))
case("norm_l2_all", lambda x: torch.linalg.vector_norm(x), r(3, 4))
case("norm_l1_dim", lambda x: torch.linalg.vector_norm(x, ord=1, dim=-1), away(3, 4))
case("norm_l2_dims_keepdim", lambda x: torch.linalg.vector_norm(x, ord=2, dim=(0, 2), keepdim=True), r(3, 4, 5))
case("norm_linf", lambda x: torch.linalg.vector_norm(x, ord=math.inf, dim=1), r(3, 4))
case("norm_p3", lambda x: torch.linalg.vector_norm(x, ord=3), r(3, 4))
case("logsumexp_dim", lambda x: torch.logsumexp(x, 1), r(3, 4, 5))
case("logsumexp_dim_keepdim_negative", lambda x: torch.logsumexp(x, -1, keepdim=True), r(3, 4, 5))
case("logsumexp_all", lambda x: torch.logsumexp(x, (0, 1, 2)), r(3, 4, 5))
case("cumsum", lambda x: x.cumsum(0), r(3, 4))
case("cumsum_negative", lambda x: x.cumsum(-1), r(3, 4))
case("cumsum_noncontig", lambda x: x.t().cumsum(1), r(3, 4))

# ---------------------------------------------------------------------------------------
# Linear algebra
case("matmul_2d", lambda a, b: a @ b, r(3, 4), r(4, 5))
case("matmul_1d_2d", lambda a, b: a @ b, r(4), r(4, 5))
case("matmul_2d_1d", lambda a, b: a @ b, r(3, 4), r(4))
case("matmul_1d_1d", lambda a, b: a @ b, r(4), r(4))
case("matmul_batched_broadcast", lambda a, b: a @ b, r(2, 1, 3, 4), r(5, 4, 2))
case("matmul_2d_3d", lambda a, b: a @ b, r(3, 4), r(2, 4, 5))
case("matmul_noncontig", lambda a, b: a.t() @ b, r(4, 3), r(4, 5))
case("matmul_f64", lambda a, b: a @ b, r(3, 4).double(), r(4, 2).double())
case("mm", lambda a, b: a.mm(b), r(3, 4), r(4, 5))
case("bmm", lambda a, b: a.bmm(b), r(2, 3, 4), r(2, 4, 5))
case("linear_bias", lambda x, w, b: F.linear(x, w, b), r(2, 3, 4), r(5, 4), r(5))
case("linear_no_bias", lambda x, w: F.linear(x, w), r(3, 4), r(5, 4))
case("dot", lambda a, b: a.dot(b), r(6), r(6))
case("outer", lambda a, b: a.outer(b), r(3), r(4))

# ---------------------------------------------------------------------------------------
# NN functional
case("conv2d", lambda x, w, b: F.conv2d(x, w, b), r(2, 4, 7, 6), r(6, 4, 3, 3), r(6))
case("conv2d_stride_padding", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
     r(2, 4, 7, 6), r(6, 4, 3, 3), r(6))
case("conv2d_dilation", lambda x, w, b: F.conv2d(x, w, b, padding=1, dilation=(2, 1)),
     r(2, 4, 7, 6), r(6, 4, 3, 3), r(6))
case("conv2d_groups_no_bias", lambda x, w: F.conv2d(x, w, groups=2, padding=1), r(2, 4, 7, 6), r(6, 2, 3, 3))
case("conv2d_noncontig", lambda x, w: F.conv2d(x.transpose(2, 3), w, stride=2), r(2, 4, 6, 7), r(3, 4, 3, 3))
case("max_pool2d", lambda x: F.max_pool2d(x, 2), r(2, 3, 6, 8))
case("max_pool2d_stride_padding", lambda x: F.max_pool2d(x, 3, stride=2, padding=1), r(2, 3, 7, 6))
case("max_pool2d_ceil_dilation", lambda x: F.max_pool2d(x, 2, stride=2, dilation=(1, 2), ceil_mode=True),
     r(1, 2, 7, 9))
case("avg_pool2d", lambda x: F.avg_pool2d(x, 2), r(2, 3, 6, 8))
case("avg_pool2d_stride_padding_exclude", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1,
                                                                 count_include_pad=False), r(2, 3, 7, 6))
case("avg_pool2d_ceil", lambda x: F.avg_pool2d(x, (2, 3), stride=(2, 2), ceil_mode=True), r(1, 2, 7, 8))
case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), r(2, 3, 7, 6))
case("adaptive_avg_pool2d_global", lambda x: F.adaptive_avg_pool2d(x, 1), r(2, 3, 5, 4))


def bn_train(x, w, b, rm, rv):
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    return [y, rm, rv]


def bn_eval(x, w, b, rm, rv):
    y = F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)
    return [y, rm, rv]


case("batch_norm_train_running_stats", bn_train, r(4, 3, 2, 2), pos(3), r(3), r(3), pos(3), nodiff=(3, 4))
case("batch_norm_train_2d_momentum", lambda x, rm, rv: [F.batch_norm(x, rm, rv, training=True, momentum=0.3), rm, rv],
     r(5, 3), r(3), pos(3), nodiff=(1, 2))
case("batch_norm_train_no_stats", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     r(4, 3, 2, 2), pos(3), r(3))
case("batch_norm_eval", bn_eval, r(4, 3, 2, 2), pos(3), r(3), r(3), pos(3), nodiff=(3, 4))
case("layer_norm_affine", lambda x, w, b: F.layer_norm(x, [4], w, b), r(2, 3, 4), pos(4), r(4))
case("layer_norm_2dims_plain", lambda x: F.layer_norm(x, [3, 4], eps=1e-3), r(2, 3, 4))
case("layer_norm_noncontig", lambda x, w, b: F.layer_norm(x.transpose(1, 2), [3], w, b), r(2, 3, 4), pos(3), r(3))
case("dropout_p0_training", lambda x: F.dropout(x, 0.0, True), r(3, 4))
case("dropout_eval", lambda x: F.dropout(x, 0.5, False), r(3, 4))
case("dropout_seeded", seeded(7, lambda x: F.dropout(x, 0.5, True)), r(4, 5))
case("dropout_seeded_p03", seeded(8, lambda x: F.dropout(x, 0.3, True)), r(40))
case("relu", lambda x: F.relu(x), away(3, 4))
case("relu_method", lambda x: x.relu(), away(3, 4))
case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), away(3, 4))
case("leaky_relu_default", lambda x: F.leaky_relu(x), away(3, 4))
case("gelu_exact", lambda x: F.gelu(x), r(3, 4))
case("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), r(3, 4))
case("silu", lambda x: F.silu(x), r(3, 4))
case("sigmoid", lambda x: torch.sigmoid(x), r(3, 4))
case("tanh", lambda x: torch.tanh(x), r(3, 4))
case("softmax_last", lambda x: F.softmax(x, -1), r(3, 4))
case("softmax_dim0", lambda x: F.softmax(x, 0), r(3, 4))
case("softmax_method_noncontig", lambda x: x.t().softmax(1), r(3, 4))
case("log_softmax", lambda x: F.log_softmax(x, 1), r(2, 3, 4))
case("log_softmax_negative_noncontig", lambda x: x.t().log_softmax(-1), r(3, 4))
case("interpolate_bilinear_down", lambda x: F.interpolate(x, size=(4, 6), mode="bilinear"), r(1, 2, 10, 15))
case("interpolate_bilinear_down_antialias",
     lambda x: F.interpolate(x, size=(4, 6), mode="bilinear", antialias=True), r(1, 2, 10, 15))
case("interpolate_bilinear_up_align_corners",
     lambda x: F.interpolate(x, size=(9, 11), mode="bilinear", align_corners=True), r(1, 2, 5, 7))
case("one_hot", lambda t: F.one_hot(t, 5), torch.tensor([0, 2, 1, 3]))
case("one_hot_inferred", lambda t: F.one_hot(t), torch.tensor([[0, 2], [1, 3]]))

# ---------------------------------------------------------------------------------------
# Losses, each reduction
for red in ("none", "mean", "sum"):
    case(f"l1_loss_{red}", lambda a, b, red=red: F.l1_loss(a, b, reduction=red), r(3, 4), r(3, 4))
    case(f"mse_loss_{red}", lambda a, b, red=red: F.mse_loss(a, b, reduction=red), r(3, 4), r(3, 4))
    case(f"smooth_l1_loss_{red}", lambda a, b, red=red: F.smooth_l1_loss(a, b, reduction=red),
         2 * r(3, 4), r(3, 4))
    case(f"smooth_l1_loss_beta05_{red}", lambda a, b, red=red: F.smooth_l1_loss(a, b, reduction=red, beta=0.5),
         r(3, 4), r(3, 4))
    case(f"huber_loss_{red}", lambda a, b, red=red: F.huber_loss(a, b, reduction=red), 2 * r(3, 4), r(3, 4))
    case(f"huber_loss_delta2_{red}", lambda a, b, red=red: F.huber_loss(a, b, reduction=red, delta=2.0),
         2 * r(3, 4), r(3, 4))
    case(f"bce_logits_{red}", lambda x, y, red=red: F.binary_cross_entropy_with_logits(x, y, reduction=red),
         r(3, 4), torch.rand(3, 4))
    case(f"bce_logits_pos_weight_{red}",
         lambda x, y, pw, red=red: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction=red),
         r(3, 4), torch.rand(3, 4), pos(4) * 2, nodiff=(2,))
    case(f"bce_logits_weight_pos_weight_{red}",
         lambda x, y, w, pw, red=red: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw,
                                                                          reduction=red),
         r(3, 4), (torch.rand(3, 4) < 0.5).float(), pos(3, 4), pos(4), nodiff=(2, 3))
    case(f"cross_entropy_{red}", lambda x, t, red=red: F.cross_entropy(x, t, reduction=red),
         r(5, 4), ints(0, 4, 5))
    case(f"cross_entropy_weight_{red}", lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, reduction=red),
         r(5, 4), ints(0, 4, 5), pos(4), nodiff=(2,))
    case(f"cross_entropy_ignore_index_{red}",
         lambda x, t, red=red: F.cross_entropy(x, t, ignore_index=-1, reduction=red),
         r(6, 4), torch.tensor([0, -1, 3, 2, -1, 1]))
    case(f"cross_entropy_label_smoothing_{red}",
         lambda x, t, red=red: F.cross_entropy(x, t, label_smoothing=0.1, reduction=red), r(5, 4), ints(0, 4, 5))
    case(f"cross_entropy_all_options_{red}",
         lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, ignore_index=2, label_smoothing=0.2,
                                                  reduction=red),
         r(6, 4), torch.tensor([0, 2, 3, 1, 2, 1]), pos(4), nodiff=(2,))
    case(f"cross_entropy_kdim_{red}", lambda x, t, red=red: F.cross_entropy(x, t, reduction=red),
         r(2, 4, 3, 3), ints(0, 4, 2, 3, 3))
    case(f"cross_entropy_probs_{red}", lambda x, p, red=red: F.cross_entropy(x, p, reduction=red),
         r(5, 4), torch.softmax(r(5, 4), 1))
    case(f"nll_loss_{red}", lambda x, t, red=red: F.nll_loss(x, t, reduction=red),
         torch.log_softmax(r(5, 4), 1), ints(0, 4, 5))
    case(f"nll_loss_weight_ignore_{red}",
         lambda x, t, w, red=red: F.nll_loss(x, t, weight=w, ignore_index=1, reduction=red),
         torch.log_softmax(r(6, 4), 1), torch.tensor([0, 1, 3, 2, 1, 3]), pos(4), nodiff=(2,))
case("cross_entropy_noncontig", lambda x, t: F.cross_entropy(x.t(), t), r(4, 5), ints(0, 4, 5))

# ---------------------------------------------------------------------------------------
if __name__ == "__main__":
    assert len(sys.argv) >= 2, "usage: ops.py OUTPUT.safetensors [FINAL]"
    save_file(OUT, sys.argv[1], metadata={"cases": ",".join(NAMES)})
    print(f"{len(NAMES)} cases, {len(OUT)} tensors")
