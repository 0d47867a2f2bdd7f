// The dispatch table: for each op, one kernel per device type.
//
// The op layer (autograd/ops_*.cpp) computes shapes, broadcasting and the result dtype
// once, allocates the output, and then calls the kernel found here for the tensors'
// device; the kernel switches on dtype with visit_dtype(). Each backend fills its column
// of the table in one registration function (register_cpu_kernels, register_cuda_kernels),
// called when the table is first used: explicit calls rather than static initialisers,
// which a static library would silently drop.
//
// The op lists (core/op_list.h) are X-macros: here they generate the enums and the
// table's rows; elsewhere the registrations, the free functions and the Tensor methods.
#pragma once

#include "graft/core/allocator.h"
#include "graft/core/device.h"
#include "graft/core/error.h"
#include "graft/core/op_list.h"
#include "graft/core/scalar.h"
#include "graft/kernels/strided_index.h"

namespace graft::kernels {

#define GRAFT_ENUM_ENTRY(name, ...) name,
enum class UnaryOp { GRAFT_UNARY_OPS(GRAFT_ENUM_ENTRY) kCount };
enum class BinaryOp { GRAFT_BINARY_OPS(GRAFT_ENUM_ENTRY) kCount };
enum class ComparisonOp { GRAFT_COMPARISON_OPS(GRAFT_ENUM_ENTRY) kCount };
enum class ReduceOp { GRAFT_REDUCE_OPS(GRAFT_ENUM_ENTRY) kCount };
#undef GRAFT_ENUM_ENTRY

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);
const char* op_name(ComparisonOp op);
const char* op_name(ReduceOp op);

// Argument blocks of the non-elementwise families, defined in their own headers.
struct ReduceArgs;       // kernels/reduce.h
struct MatmulArgs;       // kernels/matmul.h
struct SoftmaxArgs;      // kernels/softmax.h
struct GatherArgs;       // kernels/index.h
struct ScatterArgs;      // kernels/index.h
struct IndexSelectArgs;  // kernels/index.h
struct NonzeroArgs;      // kernels/index.h
struct RandomArgs;       // kernels/random.h
struct SortArgs;         // kernels/sort.h
struct MultinomialArgs;  // kernels/multinomial.h
struct ScanArgs;         // kernels/scan.h

struct Conv2dArgs;             // kernels/conv.h
struct Conv2dBackwardArgs;     // kernels/conv.h
struct Pool2dArgs;             // kernels/pool.h
struct OptimArgs;              // kernels/optim.h
struct LayerNormArgs;          // kernels/layer_norm.h
struct LayerNormBackwardArgs;  // kernels/layer_norm.h
struct AttentionArgs;          // kernels/attention.h
struct AttentionBackwardArgs;  // kernels/attention.h

// Elementwise kernels read operands 1.. and write operand 0 of the iteration.
using ElementwiseFn = void (*)(const ElementwiseIter&);
using FillFn = void (*)(const ElementwiseIter&, Scalar value);
using ReduceFn = void (*)(const ReduceArgs&);
using MatmulFn = void (*)(const MatmulArgs&);
using SoftmaxFn = void (*)(const SoftmaxArgs&);
using GatherFn = void (*)(const GatherArgs&);
using ScatterFn = void (*)(const ScatterArgs&);
using IndexSelectFn = void (*)(const IndexSelectArgs&);
using NonzeroFn = void (*)(const NonzeroArgs&);
using RandomFn = void (*)(const RandomArgs&);
using SortFn = void (*)(const SortArgs&);
using MultinomialFn = void (*)(const MultinomialArgs&);
using ScanFn = void (*)(const ScanArgs&);
using Conv2dFn = void (*)(const Conv2dArgs&);
using Conv2dBackwardFn = void (*)(const Conv2dBackwardArgs&);
using Pool2dFn = void (*)(const Pool2dArgs&);
using OptimUpdateFn = void (*)(const OptimArgs&);
using LayerNormFn = void (*)(const LayerNormArgs&);
using LayerNormBackwardFn = void (*)(const LayerNormBackwardArgs&);
using AttentionFn = void (*)(const AttentionArgs&);
using AttentionBackwardFn = void (*)(const AttentionBackwardArgs&);
// Whether a device's fused attention kernels take head dims (features, value_features) in
// `dtype`, their backward's too when asked: a GPU grants a block only so much shared memory.
using AttentionFitsFn = bool (*)(Device device, DType dtype, int64_t features,
                                 int64_t value_features, bool with_backward);
// Copies between two devices (or host <-> device); nbytes of contiguous memory.
using TransferFn = void (*)(void* dst, Device dst_device, const void* src, Device src_device,
                            int64_t nbytes);

template <class Fn>
using PerDevice = Fn[kNumDeviceTypes];

struct KernelTable {
  PerDevice<ElementwiseFn> unary[static_cast<int>(UnaryOp::kCount)] = {};
  // out = g * op'(x) in one pass, for the unary ops whose functor has a backward (GELU,
  // SiLU); null for the others, whose gradients compose other ops.
  PerDevice<ElementwiseFn> unary_backward[static_cast<int>(UnaryOp::kCount)] = {};
  PerDevice<ElementwiseFn> binary[static_cast<int>(BinaryOp::kCount)] = {};
  PerDevice<ElementwiseFn> comparison[static_cast<int>(ComparisonOp::kCount)] = {};
  PerDevice<ReduceFn> reduce[static_cast<int>(ReduceOp::kCount)] = {};
  PerDevice<ElementwiseFn> copy = {};   // operand 1 -> operand 0, converting the dtype
  PerDevice<ElementwiseFn> where = {};  // out = cond ? a : b; cond is bool
  PerDevice<ElementwiseFn> clamp = {};  // out = clamp(x, lo, hi)
  PerDevice<FillFn> fill = {};
  PerDevice<MatmulFn> matmul = {};
  PerDevice<SoftmaxFn> softmax = {};
  PerDevice<GatherFn> gather = {};
  PerDevice<ScatterFn> scatter = {};  // adds (scatter_add, index_put_ accumulate) or writes
  PerDevice<IndexSelectFn> index_select = {};
  PerDevice<NonzeroFn> nonzero = {};
  PerDevice<RandomFn> random = {};
  PerDevice<SortFn> sort = {};  // sort and argsort: every element of each line, in order
  PerDevice<SortFn> topk = {};  // the first k of each line's order
  PerDevice<MultinomialFn> multinomial = {};
  PerDevice<ScanFn> scan = {};  // cumsum, cumprod and their gradients
  PerDevice<Conv2dFn> conv2d = {};
  PerDevice<Conv2dBackwardFn> conv2d_backward = {};
  // Pools: avg_pool2d covers fixed (avg_pool2d) and adaptive (adaptive_avg_pool2d) windows.
  PerDevice<Pool2dFn> max_pool2d = {};
  PerDevice<Pool2dFn> max_pool2d_backward = {};
  PerDevice<Pool2dFn> avg_pool2d = {};
  PerDevice<Pool2dFn> avg_pool2d_backward = {};
  // One optimizer step over a list of parameters (on CUDA, one launch for all of them).
  PerDevice<OptimUpdateFn> optim_update = {};
  PerDevice<LayerNormFn> layer_norm = {};
  PerDevice<LayerNormBackwardFn> layer_norm_backward = {};
  // Fused scaled dot-product attention (the op layer composes the math path where a device
  // has none).
  PerDevice<AttentionFn> attention = {};
  PerDevice<AttentionBackwardFn> attention_backward = {};
  PerDevice<AttentionFitsFn> attention_fits = {};  // none: every size fits
  TransferFn transfer = nullptr;                   // set by a device backend
  PerDevice<Allocator*> allocator = {};            // device backends' allocators
};

// The table, filled on first use by every backend built into this library.
const KernelTable& kernel_table();

void register_cpu_kernels(KernelTable& table);
#if defined(GRAFT_HAS_CUDA)
void register_cuda_kernels(KernelTable& table);
#endif

// The kernel for `device` from a row of the table; an empty slot is a graft::Error that
// names the op and the device.
template <class Fn>
Fn lookup(const PerDevice<Fn>& row, Device device, const char* op) {
  Fn fn = row[static_cast<int>(device.type())];
  GRAFT_CHECK(fn != nullptr, op, "(): no kernel for device ", device,
              device.is_cuda() ? " (this build of graft has no CUDA backend)" : "");
  return fn;
}

}  // namespace graft::kernels
