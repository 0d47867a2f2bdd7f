// graft::cuda in a build without the CUDA backend: no devices, and a clear error for the
// questions that only make sense with one.
#include <atomic>

#include "graft/core/error.h"
#include "graft/kernels/cuda/runtime.h"

namespace graft::cuda {

bool is_available() { return false; }
int device_count() { return 0; }
MemoryStats memory_stats(int device) {
  detail::fail(
      "cuda::memory_stats(): this build of graft has no CUDA backend (configure with "
      "-DGRAFT_CUDA=ON on a machine with the CUDA toolkit)");
}
void empty_cache() {}
void synchronize() {}

void set_matmul_variant(const std::string& name) {
  detail::fail("cuda::set_matmul_variant(\"", name,
               "\"): this build of graft has no CUDA backend (configure with -DGRAFT_CUDA=ON on a "
               "machine with the CUDA toolkit)");
}
std::string matmul_variant() { return ""; }
std::vector<std::string> matmul_variants() { return {}; }

namespace {
std::atomic<bool> g_deterministic{false};
}  // namespace

void set_deterministic(bool deterministic) { g_deterministic.store(deterministic); }
bool deterministic() { return g_deterministic.load(); }

}  // namespace graft::cuda
