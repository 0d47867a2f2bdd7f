// Fills the CUDA column of the kernel table.
#include "graft/kernels/cuda/cuda_kernels.h"

namespace graft::kernels {

void register_cuda_kernels(KernelTable& table) {
  cuda::register_runtime(table);
  cuda::register_elementwise(table);
  cuda::register_reduce(table);
  cuda::register_matmul(table);
  cuda::register_softmax(table);
  cuda::register_index(table);
  cuda::register_random(table);
  cuda::register_sort(table);
  cuda::register_multinomial(table);
  cuda::register_scan(table);
  cuda::register_conv(table);
  cuda::register_pool(table);
  cuda::register_optim(table);
  cuda::register_layer_norm(table);
  cuda::register_attention(table);
}

}  // namespace graft::kernels
