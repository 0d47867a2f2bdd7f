// The kernel table and op names; see dispatch.h.
#include "graft/kernels/dispatch.h"

namespace graft::kernels {

#define GRAFT_NAME_ENTRY(name, ...) #name,
const char* op_name(UnaryOp op) {
  static const char* names[] = {GRAFT_UNARY_OPS(GRAFT_NAME_ENTRY)};
  return names[static_cast<int>(op)];
}
const char* op_name(BinaryOp op) {
  static const char* names[] = {GRAFT_BINARY_OPS(GRAFT_NAME_ENTRY)};
  return names[static_cast<int>(op)];
}
const char* op_name(ComparisonOp op) {
  static const char* names[] = {GRAFT_COMPARISON_OPS(GRAFT_NAME_ENTRY)};
  return names[static_cast<int>(op)];
}
const char* op_name(ReduceOp op) {
  static const char* names[] = {GRAFT_REDUCE_OPS(GRAFT_NAME_ENTRY)};
  return names[static_cast<int>(op)];
}
#undef GRAFT_NAME_ENTRY

const KernelTable& kernel_table() {
  static const KernelTable table = [] {
    KernelTable t;
    register_cpu_kernels(t);
#if defined(GRAFT_HAS_CUDA)
    register_cuda_kernels(t);
#endif
    return t;
  }();
  return table;
}

}  // namespace graft::kernels
