// Neural-network functions and losses.
#include "shim.h"

using namespace ctorch;

static at::IntArrayRef two(const int64_t *p) { return at::IntArrayRef(p, 2); }

extern "C" {
ct_tensor ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, const int64_t *s, const int64_t *p,
                    const int64_t *d, int64_t g) {
  CT_TENSOR(at::conv2d(T(x), T(w), opt(b), two(s), two(p), two(d), g))
}
ct_tensor ct_max_pool2d(ct_tensor x, const int64_t *k, const int64_t *s, const int64_t *p,
                        const int64_t *d, int ceil) {
  CT_TENSOR(at::max_pool2d(T(x), two(k), two(s), two(p), two(d), ceil != 0))
}
ct_tensor ct_avg_pool2d(ct_tensor x, const int64_t *k, const int64_t *s, const int64_t *p, int ceil,
                        int cip) {
  CT_TENSOR(at::avg_pool2d(T(x), two(k), two(s), two(p), ceil != 0, cip != 0))
}
ct_tensor ct_adaptive_avg_pool2d(ct_tensor x, const int64_t *o) {
  CT_TENSOR(at::adaptive_avg_pool2d(T(x), two(o)))
}
ct_tensor ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor rm, ct_tensor rv,
                        int training, double momentum, double eps) {
  CT_TENSOR(at::batch_norm(T(x), opt(w), opt(b), opt(rm), opt(rv), training != 0, momentum, eps,
                           at::globalContext().userEnabledCuDNN()))
}
ct_tensor ct_layer_norm(ct_tensor x, const int64_t *s, int n, ct_tensor w, ct_tensor b, double eps) {
  CT_TENSOR(at::layer_norm(T(x), dims(s, n), opt(w), opt(b), eps))
}
ct_tensor ct_group_norm(ct_tensor x, int64_t g, ct_tensor w, ct_tensor b, double eps) {
  CT_TENSOR(at::group_norm(T(x), g, opt(w), opt(b), eps))
}
ct_tensor ct_dropout(ct_tensor x, double p, int training) { CT_TENSOR(at::dropout(T(x), p, training != 0)) }
ct_tensor ct_leaky_relu(ct_tensor x, double slope) { CT_TENSOR(at::leaky_relu(T(x), slope)) }
ct_tensor ct_gelu(ct_tensor x, int approx) { CT_TENSOR(at::gelu(T(x), approx ? "tanh" : "none")) }
ct_tensor ct_softmax(ct_tensor x, int64_t d) { CT_TENSOR(at::softmax(T(x), d)) }
ct_tensor ct_log_softmax(ct_tensor x, int64_t d) { CT_TENSOR(at::log_softmax(T(x), d)) }
ct_tensor ct_interpolate(ct_tensor x, const int64_t *size, int mode, int align, int aa) {
  CT_GUARD(return nullptr;,
      switch (mode) {
        case 0: return wrap(aa ? at::_upsample_bilinear2d_aa(T(x), two(size), align != 0)
                               : at::upsample_bilinear2d(T(x), two(size), align != 0));
        case 1: return wrap(at::upsample_nearest2d(T(x), two(size)));
        case 2: return wrap(aa ? at::_upsample_bicubic2d_aa(T(x), two(size), align != 0)
                               : at::upsample_bicubic2d(T(x), two(size), align != 0));
        default: TORCH_CHECK(false, "interpolate: unknown mode ", mode);
      })
}
ct_tensor ct_one_hot(ct_tensor t, int64_t n) { CT_TENSOR(at::one_hot(T(t), n)) }
ct_tensor ct_embedding(ct_tensor w, ct_tensor i) { CT_TENSOR(at::embedding(T(w), T(i))) }

ct_tensor ct_l1_loss(ct_tensor x, ct_tensor y, int r) { CT_TENSOR(at::l1_loss(T(x), T(y), r)) }
ct_tensor ct_mse_loss(ct_tensor x, ct_tensor y, int r) { CT_TENSOR(at::mse_loss(T(x), T(y), r)) }
ct_tensor ct_smooth_l1_loss(ct_tensor x, ct_tensor y, int r, double beta) {
  CT_TENSOR(at::smooth_l1_loss(T(x), T(y), r, beta))
}
ct_tensor ct_huber_loss(ct_tensor x, ct_tensor y, int r, double delta) {
  CT_TENSOR(at::huber_loss(T(x), T(y), r, delta))
}
ct_tensor ct_bce_with_logits(ct_tensor x, ct_tensor y, ct_tensor w, ct_tensor pw, int r) {
  CT_TENSOR(at::binary_cross_entropy_with_logits(T(x), T(y), opt(w), opt(pw), r))
}
ct_tensor ct_cross_entropy(ct_tensor x, ct_tensor y, ct_tensor w, int r, int64_t ii, double ls) {
  CT_TENSOR(at::cross_entropy_loss(T(x), T(y), opt(w), r, ii, ls))
}
ct_tensor ct_nll_loss(ct_tensor x, ct_tensor y, ct_tensor w, int r, int64_t ii) {
  CT_TENSOR(at::nll_loss_nd(T(x), T(y), opt(w), r, ii))
}
}
