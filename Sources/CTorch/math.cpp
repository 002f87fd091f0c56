// Elementwise math, reductions and linear algebra.
#include <cmath>
#include "shim.h"

using namespace ctorch;

static at::Tensor binary(int op, const at::Tensor &a, const at::Tensor &b) {
  switch (op) {
    case CT_ADD: return a + b;
    case CT_SUB: return a - b;
    case CT_MUL: return a * b;
    case CT_DIV: return a / b;
    case CT_POW: return a.pow(b);
    case CT_MAXIMUM: return at::maximum(a, b);
    case CT_MINIMUM: return at::minimum(a, b);
    case CT_REMAINDER: return at::remainder(a, b);
    case CT_FLOOR_DIVIDE: return at::floor_divide(a, b);
    case CT_ATAN2: return at::atan2(a, b);
    case CT_EQ: return a.eq(b);
    case CT_NE: return a.ne(b);
    case CT_LT: return a.lt(b);
    case CT_LE: return a.le(b);
    case CT_GT: return a.gt(b);
    case CT_GE: return a.ge(b);
    case CT_LOGICAL_AND: return a.logical_and(b);
    case CT_LOGICAL_OR: return a.logical_or(b);
    case CT_LOGICAL_XOR: return a.logical_xor(b);
  }
  TORCH_CHECK(false, "unknown binary op ", op);
}

static at::Tensor binary_scalar(int op, const at::Tensor &a, const at::Scalar &s) {
  switch (op) {
    case CT_ADD: return a + s;
    case CT_SUB: return a - s;
    case CT_MUL: return a * s;
    case CT_DIV: return a / s;
    case CT_POW: return a.pow(s);
    case CT_REMAINDER: return at::remainder(a, s);
    case CT_FLOOR_DIVIDE: return at::floor_divide(a, s);
    case CT_EQ: return a.eq(s);
    case CT_NE: return a.ne(s);
    case CT_LT: return a.lt(s);
    case CT_LE: return a.le(s);
    case CT_GT: return a.gt(s);
    case CT_GE: return a.ge(s);
    default: {
      // maximum/minimum/atan2/logical ops have no scalar overload: promote the scalar.
      at::Tensor st = at::scalar_tensor(s, a.options().dtype(at::result_type(a, s)));
      return binary(op, a, st);
    }
  }
}

static at::Tensor scalar_binary(int op, const at::Scalar &s, const at::Tensor &a) {
  switch (op) {
    case CT_ADD: return a + s;
    case CT_MUL: return a * s;
    case CT_SUB: return at::rsub(a, s);
    case CT_DIV: return a.reciprocal() * s;  // what Python's `s / t` computes
    case CT_POW: return at::pow(s, a);
    case CT_EQ: return a.eq(s);
    case CT_NE: return a.ne(s);
    case CT_LT: return a.gt(s);
    case CT_LE: return a.ge(s);
    case CT_GT: return a.lt(s);
    case CT_GE: return a.le(s);
    default: {
      at::Tensor st = at::scalar_tensor(s, a.options().dtype(at::result_type(a, s)));
      return binary(op, st, a);
    }
  }
}

static at::Tensor unary(int op, const at::Tensor &a) {
  switch (op) {
    case CT_NEG: return a.neg();
    case CT_EXP: return a.exp();
    case CT_LOG: return a.log();
    case CT_SQRT: return a.sqrt();
    case CT_RSQRT: return a.rsqrt();
    case CT_ABS: return a.abs();
    case CT_SIGN: return a.sign();
    case CT_RECIPROCAL: return a.reciprocal();
    case CT_SQUARE: return a.square();
    case CT_SIN: return a.sin();
    case CT_COS: return a.cos();
    case CT_TAN: return a.tan();
    case CT_LOG1P: return a.log1p();
    case CT_EXPM1: return a.expm1();
    case CT_LOG2: return a.log2();
    case CT_ERF: return a.erf();
    case CT_FLOOR: return a.floor();
    case CT_CEIL: return a.ceil();
    case CT_ROUND: return a.round();
    case CT_TRUNC: return a.trunc();
    case CT_RELU: return a.relu();
    case CT_SIGMOID: return a.sigmoid();
    case CT_TANH: return a.tanh();
    case CT_SILU: return at::silu(a);
    case CT_LOGSIGMOID: return at::log_sigmoid(a);
    case CT_SOFTPLUS: return at::softplus(a);
    case CT_ISFINITE: return a.isfinite();
    case CT_ISNAN: return a.isnan();
    case CT_ISINF: return a.isinf();
    case CT_LOGICAL_NOT: return a.logical_not();
    case CT_ERFINV: return a.erfinv();
  }
  TORCH_CHECK(false, "unknown unary op ", op);
}

static at::OptionalIntArrayRef optdims_ref(const int64_t *d, int n) {
  if (!d || n == 0) return std::nullopt;
  return at::IntArrayRef(d, (size_t)n);
}
static std::vector<int64_t> alldims(const at::Tensor &t, const int64_t *d, int n) {
  if (d && n > 0) return std::vector<int64_t>(d, d + n);
  std::vector<int64_t> v(t.dim());
  for (int64_t i = 0; i < t.dim(); i++) v[i] = i;
  return v;
}

extern "C" {
ct_tensor ct_binary(int op, ct_tensor a, ct_tensor b) { CT_TENSOR(binary(op, T(a), T(b))) }
ct_tensor ct_binary_scalar(int op, ct_tensor a, double s, int rev) {
  CT_TENSOR(rev ? scalar_binary(op, s, T(a)) : binary_scalar(op, T(a), s))
}
ct_tensor ct_binary_scalar_int(int op, ct_tensor a, int64_t s, int rev) {
  CT_TENSOR(rev ? scalar_binary(op, s, T(a)) : binary_scalar(op, T(a), s))
}
ct_tensor ct_unary(int op, ct_tensor a) { CT_TENSOR(unary(op, T(a))) }
int ct_binary_(int op, ct_tensor a, ct_tensor b) {
  CT_STATUS(
      auto &x = T(a); auto &y = T(b);
      switch (op) {
        case CT_ADD: x.add_(y); break;
        case CT_SUB: x.sub_(y); break;
        case CT_MUL: x.mul_(y); break;
        case CT_DIV: x.div_(y); break;
        case CT_POW: x.pow_(y); break;
        case CT_MAXIMUM: x.copy_(at::maximum(x, y)); break;
        case CT_MINIMUM: x.copy_(at::minimum(x, y)); break;
        default: TORCH_CHECK(false, "no in-place form of binary op ", op);
      })
}
int ct_binary_scalar_(int op, ct_tensor a, double v) {
  CT_STATUS(
      auto &x = T(a);
      // In place the result keeps x's dtype: a whole number updates an integer tensor exactly.
      at::Scalar s = (!x.is_floating_point() && !x.is_complex() && v == std::floor(v) && std::fabs(v) < 9.2e18)
                         ? at::Scalar((int64_t)v) : at::Scalar(v);
      switch (op) {
        case CT_ADD: x.add_(s); break;
        case CT_SUB: x.sub_(s); break;
        case CT_MUL: x.mul_(s); break;
        case CT_DIV: x.div_(s); break;
        case CT_POW: x.pow_(s); break;
        case CT_MAXIMUM: x.clamp_min_(s); break;
        case CT_MINIMUM: x.clamp_max_(s); break;
        default: TORCH_CHECK(false, "no in-place form of binary op ", op);
      })
}
int ct_add_scaled_(ct_tensor a, ct_tensor b, double alpha) { CT_STATUS(T(a).add_(T(b), alpha);) }
int ct_addcmul_(ct_tensor a, ct_tensor b, ct_tensor c, double v) { CT_STATUS(T(a).addcmul_(T(b), T(c), v);) }
int ct_addcdiv_(ct_tensor a, ct_tensor b, ct_tensor c, double v) { CT_STATUS(T(a).addcdiv_(T(b), T(c), v);) }
int ct_lerp_(ct_tensor a, ct_tensor b, double w) { CT_STATUS(T(a).lerp_(T(b), w);) }
int ct_relu_(ct_tensor a) { CT_STATUS(T(a).relu_();) }
int ct_clamp_(ct_tensor t, double lo, double hi, int has_lo, int has_hi) {
  CT_STATUS(T(t).clamp_(has_lo ? std::optional<at::Scalar>(lo) : std::nullopt,
                        has_hi ? std::optional<at::Scalar>(hi) : std::nullopt);)
}
ct_tensor ct_clamp(ct_tensor t, double lo, double hi, int has_lo, int has_hi) {
  CT_TENSOR(T(t).clamp(has_lo ? std::optional<at::Scalar>(lo) : std::nullopt,
                       has_hi ? std::optional<at::Scalar>(hi) : std::nullopt))
}
ct_tensor ct_clamp_tensor(ct_tensor t, ct_tensor lo, ct_tensor hi) { CT_TENSOR(T(t).clamp(opt(lo), opt(hi))) }

ct_tensor ct_sum(ct_tensor t, const int64_t *d, int n, int k) { CT_TENSOR(T(t).sum(optdims_ref(d, n), k != 0)) }
ct_tensor ct_mean(ct_tensor t, const int64_t *d, int n, int k) { CT_TENSOR(T(t).mean(optdims_ref(d, n), k != 0)) }
ct_tensor ct_prod(ct_tensor t, int64_t d, int has, int k) { CT_TENSOR(has ? T(t).prod(d, k != 0) : T(t).prod()) }
ct_tensor ct_amax(ct_tensor t, const int64_t *d, int n, int k) { CT_TENSOR(T(t).amax(alldims(T(t), d, n), k != 0)) }
ct_tensor ct_amin(ct_tensor t, const int64_t *d, int n, int k) { CT_TENSOR(T(t).amin(alldims(T(t), d, n), k != 0)) }
ct_tensor ct_max_dim(ct_tensor t, int64_t d, int k, ct_tensor *idx) {
  CT_GUARD(return nullptr;, auto r = T(t).max(d, k != 0); *idx = wrap(std::get<1>(r)); return wrap(std::get<0>(r));)
}
ct_tensor ct_min_dim(ct_tensor t, int64_t d, int k, ct_tensor *idx) {
  CT_GUARD(return nullptr;, auto r = T(t).min(d, k != 0); *idx = wrap(std::get<1>(r)); return wrap(std::get<0>(r));)
}
ct_tensor ct_argmax(ct_tensor t, int64_t d, int has, int k) {
  CT_TENSOR(T(t).argmax(has ? std::optional<int64_t>(d) : std::nullopt, k != 0))
}
ct_tensor ct_argmin(ct_tensor t, int64_t d, int has, int k) {
  CT_TENSOR(T(t).argmin(has ? std::optional<int64_t>(d) : std::nullopt, k != 0))
}
ct_tensor ct_var(ct_tensor t, const int64_t *d, int n, double c, int k) {
  CT_TENSOR(at::var(T(t), optdims_ref(d, n), at::Scalar(c), k != 0))
}
ct_tensor ct_std(ct_tensor t, const int64_t *d, int n, double c, int k) {
  CT_TENSOR(at::std(T(t), optdims_ref(d, n), at::Scalar(c), k != 0))
}
ct_tensor ct_norm(ct_tensor t, double p, const int64_t *d, int n, int k) {
  CT_TENSOR(at::linalg_vector_norm(T(t), p, optdims_ref(d, n), k != 0))
}
ct_tensor ct_logsumexp(ct_tensor t, const int64_t *d, int n, int k) {
  CT_TENSOR(at::logsumexp(T(t), alldims(T(t), d, n), k != 0))
}
ct_tensor ct_cumsum(ct_tensor t, int64_t d) { CT_TENSOR(T(t).cumsum(d)) }
ct_tensor ct_all(ct_tensor t) { CT_TENSOR(T(t).all()) }
ct_tensor ct_any(ct_tensor t) { CT_TENSOR(T(t).any()) }

ct_tensor ct_matmul(ct_tensor a, ct_tensor b) { CT_TENSOR(at::matmul(T(a), T(b))) }
ct_tensor ct_mm(ct_tensor a, ct_tensor b) { CT_TENSOR(at::mm(T(a), T(b))) }
ct_tensor ct_bmm(ct_tensor a, ct_tensor b) { CT_TENSOR(at::bmm(T(a), T(b))) }
ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor b) { CT_TENSOR(at::linear(T(x), T(w), opt(b))) }
ct_tensor ct_dot(ct_tensor a, ct_tensor b) { CT_TENSOR(at::dot(T(a), T(b))) }
ct_tensor ct_outer(ct_tensor a, ct_tensor b) { CT_TENSOR(at::outer(T(a), T(b))) }
}
