// Internal helpers shared by the shim's translation units (not part of the C API).
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <atomic>
#include <string>
#include <vector>
#include "ctorch.h"

struct ct_tensor_s {
  at::Tensor t;
};

namespace ctorch {
void set_error(const char *msg);
void clear_error();

/** Handles alive (made by wrap, not yet freed): the leak check's exact measure. */
extern std::atomic<int64_t> live_handles;
inline ct_tensor wrap(at::Tensor t) {
  live_handles.fetch_add(1, std::memory_order_relaxed);
  return new ct_tensor_s{std::move(t)};
}
inline const at::Tensor &T(ct_tensor h) { return h->t; }
inline std::optional<at::Tensor> opt(ct_tensor h) {
  return h ? std::optional<at::Tensor>(h->t) : std::nullopt;
}
inline at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, (size_t)n); }
inline at::TensorOptions options(int dtype, int dev_type, int dev_index) {
  return at::TensorOptions()
      .dtype(static_cast<at::ScalarType>(dtype))
      .device(at::Device(static_cast<c10::DeviceType>(dev_type),
                         static_cast<c10::DeviceIndex>(dev_index)));
}
inline std::vector<at::Tensor> list(const ct_tensor *ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; i++) v.push_back(ts[i]->t);
  return v;
}
}  // namespace ctorch

// Runs the statements; any C++ exception becomes the thread's last error.
#define CT_GUARD(on_error, ...)                                                  \
  try {                                                                           \
    ctorch::clear_error();                                                        \
    __VA_ARGS__                                                                   \
  } catch (const c10::Error &e) {                                                 \
    ctorch::set_error(e.what_without_backtrace());                                \
  } catch (const std::exception &e) {                                             \
    ctorch::set_error(e.what());                                                  \
  } catch (...) {                                                                 \
    ctorch::set_error("unknown C++ exception");                                   \
  }                                                                               \
  on_error

// A function body returning a new tensor handle, or NULL on error.
#define CT_TENSOR(...) CT_GUARD(return nullptr;, return ctorch::wrap(__VA_ARGS__);)
// A function body returning status 0, or -1 on error.
#define CT_STATUS(...) CT_GUARD(return -1;, __VA_ARGS__ return 0;)
