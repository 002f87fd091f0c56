// Errors, runtime settings, metadata, creation and conversion.
#include <dlfcn.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/version.h>
#include <cstring>
#include <mutex>
#include "shim.h"

using namespace ctorch;

static thread_local std::string g_error;
std::atomic<int64_t> ctorch::live_handles{0};
void ctorch::set_error(const char *msg) { g_error = msg ? msg : "unknown error"; }
void ctorch::clear_error() { g_error.clear(); }

extern "C" {
const char *ct_last_error(void) { return g_error.c_str(); }
void ct_free(ct_tensor t) {
  if (t) live_handles.fetch_sub(1, std::memory_order_relaxed);
  delete t;
}
int64_t ct_live_tensor_handles(void) { return live_handles.load(std::memory_order_relaxed); }
ct_tensor ct_shallow_copy(ct_tensor t) { CT_TENSOR(T(t)) }
const char *ct_torch_version(void) { return TORCH_VERSION; }

static bool cuda_available() {
  try { return at::detail::getCUDAHooks().hasCUDA(); } catch (...) { return false; }
}

void ct_manual_seed(uint64_t seed) {
  try {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  } catch (...) {}
  ct_cuda_manual_seed_all(seed);
}
ct_tensor ct_get_rng_state(void) {
  CT_GUARD(return nullptr;,
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      return wrap(gen.get_state());)
}
int ct_set_rng_state(ct_tensor state) {
  CT_STATUS(
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(T(state));)
}
void ct_cuda_manual_seed_all(uint64_t seed) {
  if (!cuda_available()) return;
  try {
    auto &hooks = at::detail::getCUDAHooks();
    for (int i = 0; i < hooks.deviceCount(); i++) {
      auto gen = hooks.getDefaultGenerator(i);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
  } catch (...) {}
}
int ct_get_num_threads(void) { return at::get_num_threads(); }
void ct_set_num_threads(int n) { try { at::set_num_threads(n); } catch (...) {} }
int ct_get_num_interop_threads(void) { return at::get_num_interop_threads(); }
int ct_set_num_interop_threads(int n) { CT_STATUS(at::set_num_interop_threads(n);) }

int ct_cuda_init(void) {
  static std::once_flag once;
  std::call_once(once, [] { dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL); });
  return cuda_available() ? 1 : 0;
}
int ct_cuda_is_available(void) { return cuda_available() ? 1 : 0; }
int ct_cuda_device_count(void) {
  if (!cuda_available()) return 0;
  try { return at::detail::getCUDAHooks().deviceCount(); } catch (...) { return 0; }
}
int ct_cuda_synchronize(int device_index) {
  CT_STATUS(at::detail::getCUDAHooks().deviceSynchronize((c10::DeviceIndex)device_index);)
}

int64_t ct_dim(ct_tensor t) { return T(t).dim(); }
void ct_sizes(ct_tensor t, int64_t *out) {
  auto s = T(t).sizes();
  std::copy(s.begin(), s.end(), out);
}
void ct_strides(ct_tensor t, int64_t *out) {
  auto s = T(t).strides();
  std::copy(s.begin(), s.end(), out);
}
int64_t ct_numel(ct_tensor t) { return T(t).numel(); }
int64_t ct_storage_offset(ct_tensor t) { return T(t).storage_offset(); }
int ct_dtype(ct_tensor t) { return (int)T(t).scalar_type(); }
int ct_device_type(ct_tensor t) { return (int)T(t).device().type(); }
int ct_device_index(ct_tensor t) { return (int)T(t).device().index(); }
int ct_is_contiguous(ct_tensor t) { return T(t).is_contiguous() ? 1 : 0; }
int64_t ct_element_size(ct_tensor t) { return (int64_t)T(t).element_size(); }

int ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes) {
  CT_STATUS(
      at::Tensor c = T(t).detach().to(at::kCPU).contiguous();
      size_t have = (size_t)c.numel() * c.element_size();
      TORCH_CHECK(have == nbytes, "copy_to_buffer: tensor has ", have, " bytes, buffer ", nbytes);
      if (nbytes) std::memcpy(dst, c.data_ptr(), nbytes);)
}
ct_tensor ct_from_buffer(const void *data, size_t nbytes, const int64_t *shape, int ndim, int dtype) {
  CT_GUARD(return nullptr;,
      auto opts = at::TensorOptions().dtype((at::ScalarType)dtype);
      at::Tensor t = at::empty(dims(shape, ndim), opts);
      size_t need = (size_t)t.numel() * t.element_size();
      TORCH_CHECK(need == nbytes, "from_buffer: shape needs ", need, " bytes, got ", nbytes);
      if (nbytes) std::memcpy(t.data_ptr(), data, nbytes);
      return wrap(t);)
}
int ct_item_double(ct_tensor t, double *out) { CT_STATUS(*out = T(t).item<double>();) }
int ct_item_int64(ct_tensor t, int64_t *out) { CT_STATUS(*out = T(t).item<int64_t>();) }
int ct_equal(ct_tensor a, ct_tensor b, int *out) { CT_STATUS(*out = at::equal(T(a), T(b));) }
int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, int equal_nan, int *out) {
  CT_STATUS(*out = at::allclose(T(a), T(b), rtol, atol, equal_nan != 0);)
}

ct_tensor ct_empty(const int64_t *s, int n, int dt, int dv, int di) {
  CT_TENSOR(at::empty(dims(s, n), options(dt, dv, di)))
}
ct_tensor ct_zeros(const int64_t *s, int n, int dt, int dv, int di) {
  CT_TENSOR(at::zeros(dims(s, n), options(dt, dv, di)))
}
ct_tensor ct_ones(const int64_t *s, int n, int dt, int dv, int di) {
  CT_TENSOR(at::ones(dims(s, n), options(dt, dv, di)))
}
ct_tensor ct_full(const int64_t *s, int n, double v, int dt, int dv, int di) {
  CT_TENSOR(at::full(dims(s, n), v, options(dt, dv, di)))
}
ct_tensor ct_full_int(const int64_t *s, int n, int64_t v, int dt, int dv, int di) {
  CT_TENSOR(at::full(dims(s, n), v, options(dt, dv, di)))
}
ct_tensor ct_arange(double start, double end, double step, int dt, int dv, int di) {
  CT_TENSOR(at::arange(start, end, step, options(dt, dv, di)))
}
ct_tensor ct_linspace(double start, double end, int64_t steps, int dt, int dv, int di) {
  CT_TENSOR(at::linspace(start, end, steps, options(dt, dv, di)))
}
ct_tensor ct_eye(int64_t n, int64_t m, int dt, int dv, int di) {
  CT_TENSOR(at::eye(n, m, options(dt, dv, di)))
}
ct_tensor ct_rand(const int64_t *s, int n, int dt, int dv, int di) {
  CT_TENSOR(at::rand(dims(s, n), options(dt, dv, di)))
}
ct_tensor ct_randn(const int64_t *s, int n, int dt, int dv, int di) {
  CT_TENSOR(at::randn(dims(s, n), options(dt, dv, di)))
}
ct_tensor ct_randint(int64_t lo, int64_t hi, const int64_t *s, int n, int dt, int dv, int di) {
  CT_TENSOR(at::randint(lo, hi, dims(s, n), options(dt, dv, di)))
}
ct_tensor ct_randperm(int64_t n, int dt, int dv, int di) {
  CT_TENSOR(at::randperm(n, options(dt, dv, di)))
}
ct_tensor ct_zeros_like(ct_tensor t) { CT_TENSOR(at::zeros_like(T(t))) }
ct_tensor ct_ones_like(ct_tensor t) { CT_TENSOR(at::ones_like(T(t))) }
ct_tensor ct_full_like(ct_tensor t, double v) { CT_TENSOR(at::full_like(T(t), v)) }
ct_tensor ct_rand_like(ct_tensor t) { CT_TENSOR(at::rand_like(T(t))) }
ct_tensor ct_randn_like(ct_tensor t) { CT_TENSOR(at::randn_like(T(t))) }
ct_tensor ct_bernoulli(ct_tensor p) { CT_TENSOR(at::bernoulli(T(p))) }
int ct_uniform_(ct_tensor t, double lo, double hi) { CT_STATUS(T(t).uniform_(lo, hi);) }
int ct_normal_(ct_tensor t, double mean, double std) { CT_STATUS(T(t).normal_(mean, std);) }
int ct_fill_(ct_tensor t, double v) { CT_STATUS(T(t).fill_(v);) }
int ct_zero_(ct_tensor t) { CT_STATUS(T(t).zero_();) }
int ct_copy_(ct_tensor dst, ct_tensor src) { CT_STATUS(T(dst).copy_(T(src));) }

ct_tensor ct_to_dtype(ct_tensor t, int dt) { CT_TENSOR(T(t).to((at::ScalarType)dt)) }
ct_tensor ct_to_device(ct_tensor t, int dv, int di, int nb) {
  CT_TENSOR(T(t).to(at::Device((c10::DeviceType)dv, (c10::DeviceIndex)di), nb != 0))
}
ct_tensor ct_contiguous(ct_tensor t) { CT_TENSOR(T(t).contiguous()) }
ct_tensor ct_clone(ct_tensor t) { CT_TENSOR(T(t).clone()) }
}
