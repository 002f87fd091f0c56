// Explicit random generators (torch.Generator): CPU generators owned by the caller, and the
// random ops that draw from one instead of libtorch's global generator.
#include <ATen/CPUGeneratorImpl.h>
#include <mutex>
#include "shim.h"

using namespace ctorch;

struct ct_generator_s {
  at::Generator g;
};

static at::Generator &G(ct_generator h) { return h->g; }

extern "C" {
ct_generator ct_generator_new(uint64_t seed) {
  CT_GUARD(return nullptr;, return new ct_generator_s{at::make_generator<at::CPUGeneratorImpl>(seed)};)
}
void ct_generator_free(ct_generator g) { delete g; }
ct_generator ct_generator_clone(ct_generator g) {
  CT_GUARD(return nullptr;,
      std::lock_guard<std::mutex> lock(G(g).mutex());
      return new ct_generator_s{G(g).clone()};)
}
uint64_t ct_generator_initial_seed(ct_generator g) {
  std::lock_guard<std::mutex> lock(G(g).mutex());
  return G(g).current_seed();
}
int ct_generator_manual_seed(ct_generator g, uint64_t seed) {
  CT_STATUS(std::lock_guard<std::mutex> lock(G(g).mutex()); G(g).set_current_seed(seed);)
}
ct_tensor ct_generator_get_state(ct_generator g) {
  CT_GUARD(return nullptr;, std::lock_guard<std::mutex> lock(G(g).mutex()); return wrap(G(g).get_state());)
}
int ct_generator_set_state(ct_generator g, ct_tensor state) {
  CT_STATUS(std::lock_guard<std::mutex> lock(G(g).mutex()); G(g).set_state(T(state));)
}

ct_tensor ct_rand_gen(const int64_t *s, int n, int dt, ct_generator g) {
  CT_TENSOR(at::rand(dims(s, n), G(g), options(dt, (int)c10::DeviceType::CPU, -1)))
}
ct_tensor ct_randn_gen(const int64_t *s, int n, int dt, ct_generator g) {
  CT_TENSOR(at::randn(dims(s, n), G(g), options(dt, (int)c10::DeviceType::CPU, -1)))
}
ct_tensor ct_randint_gen(int64_t lo, int64_t hi, const int64_t *s, int n, int dt, ct_generator g) {
  CT_TENSOR(at::randint(lo, hi, dims(s, n), G(g), options(dt, (int)c10::DeviceType::CPU, -1)))
}
ct_tensor ct_randperm_gen(int64_t n, int dt, ct_generator g) {
  CT_TENSOR(at::randperm(n, G(g), options(dt, (int)c10::DeviceType::CPU, -1)))
}
ct_tensor ct_bernoulli_gen(ct_tensor p, ct_generator g) { CT_TENSOR(at::bernoulli(T(p), G(g))) }
int ct_uniform_gen_(ct_tensor t, double lo, double hi, ct_generator g) { CT_STATUS(T(t).uniform_(lo, hi, G(g));) }
int ct_normal_gen_(ct_tensor t, double mean, double std, ct_generator g) {
  CT_STATUS(T(t).normal_(mean, std, G(g));)
}
// Dropout as ATen computes it on CPU (at::dropout's unfused path): noise ~ Bernoulli(1-p),
// scaled by 1/(1-p), multiplied in; here the noise comes from `g`.
ct_tensor ct_dropout_gen(ct_tensor x, double p, int training, ct_generator g) {
  CT_GUARD(return nullptr;,
      const at::Tensor &in = T(x);
      if (p == 0 || training == 0 || in.numel() == 0) return wrap(in);
      if (p == 1) return wrap(in * at::zeros({}, in.options()));
      auto noise = at::empty_like(in, at::MemoryFormat::Preserve).bernoulli_(1 - p, G(g));
      noise.div_(1 - p);
      return wrap(in * noise);)
}
}
