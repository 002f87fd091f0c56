// Autograd: gradients, backward, per-output gradients, grad mode.
#include "shim.h"

using namespace ctorch;

extern "C" {
int ct_requires_grad(ct_tensor t) { return T(t).requires_grad() ? 1 : 0; }
int ct_set_requires_grad(ct_tensor t, int r) { CT_STATUS(T(t).requires_grad_(r != 0);) }
int ct_is_leaf(ct_tensor t) { return T(t).is_leaf() ? 1 : 0; }
ct_tensor ct_grad(ct_tensor t) {
  CT_GUARD(return nullptr;, const at::Tensor &g = T(t).grad(); if (!g.defined()) return nullptr;
           return wrap(g);)
}
int ct_set_grad(ct_tensor t, ct_tensor g) {
  CT_STATUS(T(t).mutable_grad() = g ? T(g) : at::Tensor();)
}
int ct_zero_grad(ct_tensor t, int set_to_none) {
  CT_STATUS(
      at::Tensor &g = T(t).mutable_grad();
      if (g.defined()) {
        if (set_to_none) g = at::Tensor();
        else { g = g.detach(); g.zero_(); }
      })
}
int ct_backward(ct_tensor t, ct_tensor g, int retain, int create) {
  CT_STATUS(T(t).backward(g ? T(g) : at::Tensor(), retain != 0, create != 0);)
}
int ct_autograd_grad(const ct_tensor *outs, int n_out, const ct_tensor *ins, int n_in,
                     const ct_tensor *gouts, int retain, int create, ct_tensor *res) {
  CT_STATUS(
      torch::autograd::variable_list o = list(outs, n_out), i = list(ins, n_in), g;
      if (gouts) for (int k = 0; k < n_out; k++) g.push_back(gouts[k] ? T(gouts[k]) : at::Tensor());
      auto r = torch::autograd::grad(o, i, g, retain != 0, create != 0, /*allow_unused=*/true);
      for (int k = 0; k < n_in; k++) res[k] = r[k].defined() ? wrap(r[k]) : nullptr;)
}
ct_tensor ct_detach(ct_tensor t) { CT_TENSOR(T(t).detach()) }
int ct_is_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
void ct_set_grad_enabled(int e) { c10::GradMode::set_enabled(e != 0); }
ct_inference_guard ct_inference_mode_enter(int enabled) {
  return reinterpret_cast<ct_inference_guard>(new c10::InferenceMode(enabled != 0));
}
void ct_inference_mode_exit(ct_inference_guard g) { delete reinterpret_cast<c10::InferenceMode *>(g); }
int ct_is_inference_mode_enabled(void) { return c10::InferenceMode::is_enabled() ? 1 : 0; }
int ct_is_inference(ct_tensor t) { return T(t).is_inference() ? 1 : 0; }
}
