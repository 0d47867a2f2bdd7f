// CPU elementwise kernels: the shared kernel set (elementwise_kernels.h) over the CPU loop.
#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/loops.h"
#include "graft/kernels/elementwise_kernels.h"

namespace graft::kernels::cpu {
namespace {

struct CpuLoop {
  template <class R, class... In, class Op>
  static void run(const ElementwiseIter& it, const Op& op) {
    cpu_elementwise_loop<R, In...>(it, op);
  }
};

}  // namespace

void register_elementwise(KernelTable& table) {
  register_elementwise_kernels<CpuLoop>(table, kCPU);
}

}  // namespace graft::kernels::cpu
