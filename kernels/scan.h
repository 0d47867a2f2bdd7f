// ScanArgs: an inclusive running sum or product along one dim of a strided tensor.
//
// For every position of the other dims (a "line"), out[i] = x[0] op x[1] op ... op x[i]
// along the scanned dim. The op layer (autograd/ops_scan.cpp) has already
//  - converted integer and bool inputs to int64, so input and output share one dtype
//    (int64, float32 or float64) and the kernels convert nothing;
//  - allocated the output and skipped empty tensors (n >= 1 and at least one line here);
//  - turned a reverse scan (from the last element to the first, as cumsum's gradient is)
//    into a forward one over a flipped view: pointers at the last element, negated steps.
//    Kernels therefore only scan forwards;
//  - described the line dims with size-1 dims dropped and neighbours that are contiguous
//    with each other (in input and output alike) merged, innermost last.
//
// Accumulation: floating lines accumulate in double (float32 too, on both backends, so a
// running sum of 2^24 float32 values is as exact as its float32 outputs can show), integers
// in int64, wrapping around on overflow as PyTorch's do. Plain C++, shared with the CUDA
// backend.
#pragma once

#include <cstdint>
#include <type_traits>

#include "graft/core/dtype.h"
#include "graft/core/host_device.h"
#include "graft/core/shape.h"

namespace graft::kernels {

enum class ScanOp : uint8_t { sum, prod };

// The lines of a scan: one per position of `sizes` (row-major), starting at these offsets
// (in elements) in the input and the output.
struct ScanLines {
  int ndim = 0;  // 0: a single line
  int64_t sizes[kMaxDims] = {};
  int64_t in_strides[kMaxDims] = {};
  int64_t out_strides[kMaxDims] = {};

  GRAFT_HOST_DEVICE int64_t count() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }

  // Where line `line` starts in the input and in the output.
  GRAFT_HOST_DEVICE void offsets_of(int64_t line, int64_t& in, int64_t& out) const {
    in = 0;
    out = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t q = line / sizes[d], c = line - q * sizes[d];
      in += c * in_strides[d];
      out += c * out_strides[d];
      line = q;
    }
  }
};

struct ScanArgs {
  ScanOp op = ScanOp::sum;
  DType dtype = kFloat32;    // of input and output: int64, float32 or float64
  const void* in = nullptr;  // the first element of the first line
  void* out = nullptr;
  int64_t n = 0;         // elements per line: the scanned dim's size
  int64_t in_step = 0;   // between neighbours along a line, in elements (< 0 when reversed)
  int64_t out_step = 0;  // likewise in the output
  ScanLines lines;
};

// What a line of T accumulates in.
template <class T>
using ScanAcc = std::conditional_t<is_floating_type_v<T>, double, int64_t>;

// The two scans as types, so that a kernel's inner loop holds no branch on the op. Integers
// combine through uint64, whose wrap-around is defined (int64 overflow is not).
struct SumScan {
  static constexpr int kIdentity = 0;
  template <class Acc>
  GRAFT_HOST_DEVICE static Acc combine(Acc a, Acc b) {
    if constexpr (std::is_integral_v<Acc>)
      return static_cast<Acc>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    else
      return a + b;
  }
};

struct ProdScan {
  static constexpr int kIdentity = 1;
  template <class Acc>
  GRAFT_HOST_DEVICE static Acc combine(Acc a, Acc b) {
    if constexpr (std::is_integral_v<Acc>)
      return static_cast<Acc>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
    else
      return a * b;
  }
};

// Calls fn(Op{}, T{}) for the args' op and dtype.
template <class Fn>
void visit_scan(const ScanArgs& args, Fn&& fn) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, int64_t> || is_floating_type_v<T>) {
      if (args.op == ScanOp::sum)
        fn(SumScan{}, tag);
      else
        fn(ProdScan{}, tag);
    } else {
      detail::fail("scan kernel called with ", args.dtype,
                   "; the op layer converts integer inputs to int64 first");
    }
  });
}

}  // namespace graft::kernels
