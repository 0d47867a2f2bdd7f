// Fills the CPU column of the kernel table.
#include "graft/kernels/cpu/cpu_kernels.h"

namespace graft::kernels {

void register_cpu_kernels(KernelTable& table) {
  cpu::register_elementwise(table);
  cpu::register_reduce(table);
  cpu::register_matmul(table);
  cpu::register_softmax(table);
  cpu::register_index(table);
  cpu::register_random(table);
  cpu::register_sort(table);
  cpu::register_multinomial(table);
  cpu::register_scan(table);
  cpu::register_conv(table);
  cpu::register_pool(table);
  cpu::register_optim(table);
  cpu::register_layer_norm(table);
  cpu::register_attention(table);
}

}  // namespace graft::kernels
