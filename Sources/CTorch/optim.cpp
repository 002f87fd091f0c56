// Fused optimizer steps: one libtorch kernel updates a whole list of parameters.
#include "shim.h"

using namespace ctorch;

extern "C" {
int ct_fused_adam(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                  const ct_tensor *exp_avg_sqs, const ct_tensor *max_exp_avg_sqs, const double *steps,
                  int n, double lr, double beta1, double beta2, double weight_decay, double eps,
                  int amsgrad, int maximize, int decoupled, int *done) {
  CT_GUARD(return -1;,
      // The kernel walks each tensor's memory as a flat array: every tensor of a parameter
      // must have the parameter's dtype, sizes and strides, and the memory must be dense.
      // The others are left to the caller (done[i] = 0).
      std::vector<at::Tensor> P, G, M, V, MX, S;
      for (int i = 0; i < n; i++) {
        done[i] = 0;
        const at::Tensor &p = T(params[i]);
        if (!p.device().is_cpu() || p.scalar_type() != at::kFloat || p.is_sparse() ||
            !p.is_non_overlapping_and_dense()) continue;
        auto same = [&](ct_tensor h) {
          if (!h) return false;
          const at::Tensor &t = T(h);
          return t.defined() && !t.is_sparse() && t.scalar_type() == p.scalar_type() &&
                 t.device() == p.device() && t.sizes().equals(p.sizes()) && t.strides().equals(p.strides());
        };
        if (!same(grads[i]) || !same(exp_avgs[i]) || !same(exp_avg_sqs[i]) ||
            (amsgrad && !same(max_exp_avg_sqs[i]))) continue;
        P.push_back(p);
        G.push_back(T(grads[i]));
        M.push_back(T(exp_avgs[i]));
        V.push_back(T(exp_avg_sqs[i]));
        if (amsgrad) MX.push_back(T(max_exp_avg_sqs[i]));
        S.push_back(at::scalar_tensor(steps[i], at::TensorOptions().dtype(at::kDouble)));
        done[i] = 1;
      }
      if (P.empty()) return 0;
      at::NoGradGuard no_grad;
      if (decoupled) {
        at::_fused_adamw_(P, G, M, V, MX, S, lr, beta1, beta2, weight_decay, eps, amsgrad != 0, maximize != 0);
      } else {
        at::_fused_adam_(P, G, M, V, MX, S, lr, beta1, beta2, weight_decay, eps, amsgrad != 0, maximize != 0);
      }
      return 0;)
}
}
