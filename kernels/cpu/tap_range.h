// The outputs of one row whose tap lands inside the input, shared by im2col/col2im and max
// pooling. Both walk a row tap by tap, output o reading input o * stride + offset (offset:
// the tap's position less the padding). Working out once per row which outputs read the
// input, rather than testing every element, leaves their inner loops plain strided
// copies and compares that vectorise.
#pragma once

#include <algorithm>
#include <cstdint>

namespace graft::kernels::cpu {

struct TapRange {
  int64_t lo, hi;  // outputs [lo, hi) read inside [0, in); the others read padding
};

inline TapRange outputs_reading_inside(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  const int64_t lo = offset >= 0 ? 0 : (stride - 1 - offset) / stride;
  const int64_t last = in - 1 - offset;
  const int64_t hi = last < 0 ? 0 : std::min(last / stride + 1, out);
  return {std::min(lo, hi), hi};
}

}  // namespace graft::kernels::cpu
