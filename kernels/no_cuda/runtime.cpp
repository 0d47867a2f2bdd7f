// graft::cuda in a build without the CUDA backend: no devices, and a clear error for the
// questions that only make sense with one.

#include "graft/kernels/cuda/runtime.h"
#include "graft/core/error.h"

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

}  // namespace graft::cuda
