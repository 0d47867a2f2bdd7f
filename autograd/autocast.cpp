// Autocast's per-thread state, its guard and the casts the op layer asks for; see autocast.h.
#include "graft/autograd/autocast.h"

#include <vector>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/views.h"

namespace graft {
namespace {

// A parameter's cast, valid while the parameter's storage keeps `version`. The source is
// held, so its memory cannot be reused by another tensor while the entry lives.
struct CachedCast {
  Tensor source;
  uint64_t version;
  Tensor cast;
};

struct AutocastState {
  bool enabled[kNumDeviceTypes] = {};
  DType dtype[kNumDeviceTypes] = {kBFloat16, kFloat16};  // torch.autocast's defaults
  int enabled_guards = 0;                                // the cache lives while this is above 0
  std::optional<DType> last_guard_dtype[kNumDeviceTypes];
  std::vector<CachedCast> cache;
};

AutocastState& state() {
  thread_local AutocastState s;
  return s;
}

int index(DeviceType device) { return static_cast<int>(device); }

// Floating and not float64, as torch's autocast `is_eligible`.
bool eligible(const Tensor& t) {
  return t.defined() && is_floating_point(t.dtype()) && t.dtype() != kFloat64;
}

// PyTorch caches only leaves that require grad (parameters): other tensors are new each
// step, and their casts would only keep them alive. And only while grad mode is on: a cast
// made under NoGradGuard records no edge back to the parameter, so reused later with grad
// on it would cut the parameter off from its gradient.
bool cacheable(const Tensor& t) {
  return t.dtype() == kFloat32 && t.requires_grad() && t.is_leaf() &&
         autograd::view_info(t) == nullptr && autograd::GradMode::is_enabled();
}

}  // namespace

AutocastGuard::AutocastGuard(DeviceType device, std::optional<DType> dtype, bool enabled)
    : device_(device),
      previous_enabled_(state().enabled[index(device)]),
      previous_dtype_(state().dtype[index(device)]) {
  const DType low = dtype.value_or(previous_dtype_);
  GRAFT_CHECK(is_reduced_floating_point(low), "AutocastGuard(): autocast runs in float16 or ",
              "bfloat16, got ", low, "; for float32 everywhere, pass enabled = false");
  AutocastState& s = state();
  s.enabled[index(device)] = enabled;
  s.dtype[index(device)] = low;
  if (enabled) {
    ++s.enabled_guards;
    s.last_guard_dtype[index(device)] = low;
  }
}

AutocastGuard::~AutocastGuard() {
  AutocastState& s = state();
  if (s.enabled[index(device_)] && --s.enabled_guards == 0) s.cache.clear();
  s.enabled[index(device_)] = previous_enabled_;
  s.dtype[index(device_)] = previous_dtype_;
}

bool is_autocast_enabled(DeviceType device) { return state().enabled[index(device)]; }

DType get_autocast_dtype(DeviceType device) { return state().dtype[index(device)]; }

namespace autocast {

Tensor to_low_precision(const Tensor& t) {
  if (!eligible(t) || !is_autocast_enabled(t.device().type())) return t;
  const DType low = get_autocast_dtype(t.device().type());
  if (t.dtype() == low) return t;
  if (!cacheable(t)) return t.to(low);
  std::vector<CachedCast>& cache = state().cache;
  const uint64_t version = t.storage()->version();
  for (CachedCast& entry : cache) {
    if (!entry.source.is_same(t) || entry.cast.dtype() != low) continue;
    if (entry.version != version) {  // written since (an optimizer step): cast afresh
      entry.cast = t.to(low);
      entry.version = version;
    }
    return entry.cast;
  }
  cache.push_back({t, version, t.to(low)});
  return cache.back().cast;
}

Tensor to_float32(const Tensor& t) {
  if (!eligible(t) || !is_reduced_floating_point(t.dtype()) ||
      !is_autocast_enabled(t.device().type()))
    return t;
  return t.to(kFloat32);
}

int64_t cached_casts() { return static_cast<int64_t>(state().cache.size()); }

std::optional<DType> last_guard_dtype(DeviceType device) {
  return state().last_guard_dtype[index(device)];
}

}  // namespace autocast

}  // namespace graft
