// Mixed precision (autocast) and memory formats (channels-last).
#include <ATen/autocast_mode.h>

#include "shim.h"

using namespace ctorch;

namespace {
/** The autocast state a guard replaced, restored when it ends. */
struct AutocastState {
  c10::DeviceType device;
  bool enabled;
  at::ScalarType dtype;
};
}  // namespace

extern "C" {
ct_autocast_guard ct_autocast_enter(int dev_type, int dtype, int enabled) {
  auto device = static_cast<c10::DeviceType>(dev_type);
  auto *state = new AutocastState{device, at::autocast::is_autocast_enabled(device),
                                  at::autocast::get_autocast_dtype(device)};
  at::autocast::set_autocast_enabled(device, enabled != 0);
  at::autocast::set_autocast_dtype(device, static_cast<at::ScalarType>(dtype));
  at::autocast::increment_nesting();
  return reinterpret_cast<ct_autocast_guard>(state);
}
void ct_autocast_exit(ct_autocast_guard g) {
  auto *state = reinterpret_cast<AutocastState *>(g);
  // Leaving the outermost region frees the casted weight copies it cached.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(state->device, state->enabled);
  at::autocast::set_autocast_dtype(state->device, state->dtype);
  delete state;
}
int ct_is_autocast_enabled(int dev_type) {
  return at::autocast::is_autocast_enabled(static_cast<c10::DeviceType>(dev_type)) ? 1 : 0;
}
ct_tensor ct_contiguous_format(ct_tensor t, int channels_last) {
  CT_TENSOR(T(t).contiguous(channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous))
}
int ct_is_channels_last(ct_tensor t) {
  return T(t).dim() == 4 && T(t).is_contiguous(at::MemoryFormat::ChannelsLast) ? 1 : 0;
}
int ct_set_data(ct_tensor t, ct_tensor source) { CT_STATUS(T(t).set_data(T(source));) }
}
