// CUDA elementwise kernels: the shared kernel set (elementwise_kernels.h) over the CUDA loop.
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/cuda/loops.cuh"
#include "graft/kernels/elementwise_kernels.h"

namespace graft::kernels::cuda {
namespace {

struct CudaLoop {
  template <class R, class... In, class Op>
  static void run(const ElementwiseIter& it, const Op& op) {
    cuda_elementwise_loop<R, In...>(it, op);
  }
};

}  // namespace

void register_elementwise(KernelTable& table) {
  register_elementwise_kernels<CudaLoop>(table, kCUDA);
}

}  // namespace graft::kernels::cuda
