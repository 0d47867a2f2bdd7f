// The switches of settings.h: the thread count is OpenMP's own setting, the deterministic
// switch one flag that the kernels read at each call.
#include "graft/kernels/settings.h"

#include <atomic>

#include "graft/core/error.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace graft {

namespace {
std::atomic<bool> g_deterministic{false};
}  // namespace

void set_num_threads(int threads) {
  GRAFT_CHECK(threads >= 1, "set_num_threads(): the thread count must be at least 1, got ",
              threads);
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#endif
}

int get_num_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void use_deterministic_algorithms(bool enabled) { g_deterministic.store(enabled); }
bool are_deterministic_algorithms_enabled() { return g_deterministic.load(); }

}  // namespace graft
