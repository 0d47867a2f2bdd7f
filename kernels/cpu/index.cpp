// CPU indexing kernels: gather, index_select and scatter_add (argument blocks: kernels/index.h).
//
// All three are one loop nest over a shape that carries the element offsets of its operands;
// for `self` the index value, not the loop, supplies the coordinate along `dim`.
// gather and index_select write each output element once, so their rows (every coordinate
// but the innermost) may run on any thread. scatter_add may add many sources into one
// element: it walks `dim` innermost and serially and splits only the rows, which hold
// different coordinates off `dim` and so write disjoint elements of self. The sums are then
// deterministic and need no atomics.
//
// Bad index values are recorded by the thread that meets them and thrown as a graft::Error
// after the parallel region (see BadIndex).
#include <array>
#include <atomic>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/index.h"

namespace graft::kernels::cpu {
namespace {

// N operands walked together over `sizes`, innermost dim last.
template <int N>
struct LoopNest {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  int64_t inner_size() const { return sizes[ndim - 1]; }
  int64_t inner_stride(int k) const { return strides[k][ndim - 1]; }
};

// The nest over sizes[0, ndim) that walks dim `inner` innermost and the others in order;
// operand k steps by strides[k].
template <int N>
LoopNest<N> make_nest(int ndim, const int64_t* sizes, int inner,
                      const std::array<const int64_t*, N>& strides) {
  LoopNest<N> nest;
  nest.ndim = ndim;
  int slot = 0;
  auto place = [&](int d) {
    nest.sizes[slot] = sizes[d];
    for (int k = 0; k < N; ++k) nest.strides[k][slot] = strides[k][d];
    ++slot;
  };
  for (int d = 0; d < ndim; ++d)
    if (d != inner) place(d);
  place(inner);
  return nest;
}

// `strides` with a 0 at `dim`: self's loop strides, where the index value gives that offset.
std::array<int64_t, kMaxDims> without_dim(const int64_t* strides, int dim) {
  std::array<int64_t, kMaxDims> out{};
  std::copy(strides, strides + kMaxDims, out.begin());
  out[dim] = 0;
  return out;
}

// Calls block(offsets, count) for runs of up to `max_count` consecutive rows of the nest (a
// row is one combination of its outer coordinates), offsets[r][k] being operand k's offset
// at the first element of row r; the body walks the inner dim itself. Runs are split across
// threads when the nest is large, never inside a run.
inline constexpr int kMaxRowBlock = 64;

template <int N, class Block>
void for_each_row_block(const LoopNest<N>& nest, int max_count, const Block& block) {
  const int outer = nest.ndim - 1;
  int64_t rows = 1;
  for (int d = 0; d < outer; ++d) rows *= nest.sizes[d];
  const int64_t inner = nest.inner_size();
  if (rows == 0 || inner == 0) return;
  const int64_t grain = std::max<int64_t>(max_count, kParallelGrain / inner);
  parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    int64_t coord[kMaxDims] = {};
    int64_t offsets[N] = {};
    for (int64_t d = outer - 1, rest = begin; d >= 0; --d) {
      coord[d] = rest % nest.sizes[d];
      rest /= nest.sizes[d];
      for (int k = 0; k < N; ++k) offsets[k] += coord[d] * nest.strides[k][d];
    }
    int64_t run[kMaxRowBlock][N];
    int count = 0;
    for (int64_t r = begin; r < end; ++r) {
      std::copy(offsets, offsets + N, run[count]);
      if (++count == max_count || r + 1 == end) {
        block(run, count);
        count = 0;
      }
      // Odometer step to the next row: bump the last outer dim, carrying leftwards.
      for (int d = outer - 1; d >= 0; --d) {
        for (int k = 0; k < N; ++k) offsets[k] += nest.strides[k][d];
        if (++coord[d] < nest.sizes[d]) break;
        for (int k = 0; k < N; ++k) offsets[k] -= nest.sizes[d] * nest.strides[k][d];
        coord[d] = 0;
      }
    }
  });
}

// Calls row(offsets) once per row of the nest (see for_each_row_block).
template <int N, class Row>
void for_each_row(const LoopNest<N>& nest, const Row& row) {
  for_each_row_block(nest, 1, [&](const int64_t(*run)[N], int) { row(run[0]); });
}

// The first out-of-range index value a kernel met, recorded from any thread and reported
// after the parallel region (an exception must not leave an OpenMP region).
class BadIndex {
 public:
  // One unsigned compare tests both k < 0 and k >= size.
  static bool out_of_range(int64_t k, int64_t size) {
    return static_cast<uint64_t>(k) >= static_cast<uint64_t>(size);
  }
  void record(int64_t k) {
    if (!found_.exchange(true)) value_ = k;
  }
  void throw_if_found(const char* op, int dim, int64_t size) const {
    GRAFT_CHECK(!found_.load(), op, "(): index ", value_, " is out of bounds for dimension ", dim,
                " with size ", size);
  }

 private:
  std::atomic<bool> found_{false};
  int64_t value_ = 0;  // written once, by the thread that set found_
};

// out[c] = self[c with c[dim] = index[c]] over `sizes`: gather, and index_select with its
// 1-D index broadcast over the other dims (stride 0 there). Index values are checked as they
// are read: the output is a fresh tensor, so a half-written one on error harms nobody, and a
// separate checking pass would read the index twice.
template <class I>
void gather_loop(const char* op, int ndim, int dim, const int64_t* sizes, int64_t self_dim_size,
                 const StridedOperand& out, const StridedOperand& self, const I* index,
                 const int64_t* index_strides) {
  const auto self_loop = without_dim(self.strides, dim);
  const int64_t self_step = self.strides[dim];
  const auto nest =
      make_nest<3>(ndim, sizes, ndim - 1, {out.strides, self_loop.data(), index_strides});
  BadIndex bad;
  visit_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    for_each_row(nest, [&](const int64_t(&offsets)[3]) {
      const int64_t n = nest.inner_size(), so = nest.inner_stride(0), ss = nest.inner_stride(1),
                    si = nest.inner_stride(2);
      T* to = reinterpret_cast<T*>(out.data) + offsets[0];
      const T* from = reinterpret_cast<const T*>(self.data) + offsets[1];
      const I* at = index + offsets[2];
      if (si == 0) {  // one index value for the whole row, as in index_select: copy a row
        const int64_t k = at[0];
        if (BadIndex::out_of_range(k, self_dim_size)) [[unlikely]]
          return bad.record(k);
        const T* row = from + k * self_step;
        for (int64_t i = 0; i < n; ++i) to[i * so] = row[i * ss];
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = at[i * si];
        if (BadIndex::out_of_range(k, self_dim_size)) [[unlikely]]
          return bad.record(k);
        to[i * so] = from[i * ss + k * self_step];
      }
    });
  });
  bad.throw_if_found(op, dim, self_dim_size);
}

void gather_kernel(const GatherArgs& args) {
  gather_loop("gather", args.ndim, args.dim, args.sizes, args.self_dim_size, args.out, args.self,
              reinterpret_cast<const int64_t*>(args.index.data), args.index.strides);
}

void index_select_kernel(const IndexSelectArgs& args) {
  int64_t index_strides[kMaxDims] = {};  // the 1-D index broadcast over every other dim
  index_strides[args.dim] = args.index_stride;
  auto run = [&](const auto* index) {
    gather_loop("index_select", args.ndim, args.dim, args.sizes, args.self_dim_size, args.out,
                args.self, index, index_strides);
  };
  if (args.index_dtype == kInt32) {
    run(static_cast<const int32_t*>(args.index));
  } else {
    GRAFT_CHECK(args.index_dtype == kInt64,
                "index_select(): the kernel takes an int32 or int64 index, got ", args.index_dtype);
    run(static_cast<const int64_t*>(args.index));
  }
}

// scatter_add checks every index value in a pass of its own before adding anything, so a
// failed scatter_add_ leaves its tensor untouched.
void scatter_add_kernel(const ScatterAddArgs& args) {
  const auto* index = reinterpret_cast<const int64_t*>(args.index.data);
  const auto index_nest = make_nest<1>(args.ndim, args.sizes, args.ndim - 1, {args.index.strides});
  BadIndex bad;
  for_each_row(index_nest, [&](const int64_t(&offsets)[1]) {
    const int64_t n = index_nest.inner_size(), si = index_nest.inner_stride(0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = index[offsets[0] + i * si];
      if (BadIndex::out_of_range(k, args.self_dim_size)) [[unlikely]]
        return bad.record(k);
    }
  });
  bad.throw_if_found("scatter_add", args.dim, args.self_dim_size);

  const auto self_loop = without_dim(args.self.strides, args.dim);
  const int64_t self_step = args.self.strides[args.dim];
  // `dim` innermost, so a row holds every source of its elements and no two threads share
  // an element. When `dim` is not the last dim, rows go in runs of consecutive ones read
  // source-major: a contiguous index and src are then read along their rows rather than
  // down their columns, and each element still receives its sources in order of c[dim].
  const auto nest = make_nest<3>(args.ndim, args.sizes, args.dim,
                                 {self_loop.data(), args.index.strides, args.src.strides});
  visit_dtype(args.self.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* self = reinterpret_cast<T*>(args.self.data);
    const T* src = reinterpret_cast<const T*>(args.src.data);
    const int64_t n = nest.inner_size(), si = nest.inner_stride(1), ss = nest.inner_stride(2);
    const int run_length = args.dim == args.ndim - 1 ? 1 : kMaxRowBlock;
    for_each_row_block(nest, run_length, [&](const int64_t(*run)[3], int count) {
      for (int64_t i = 0; i < n; ++i)
        for (int r = 0; r < count; ++r) {
          T& dst = self[run[r][0] + index[run[r][1] + i * si] * self_step];
          // The sum in the promoted int is cast back: for bool that is a logical or, as
          // PyTorch's CPU scatter_add does.
          dst = static_cast<T>(dst + src[run[r][2] + i * ss]);
        }
    });
  });
}

}  // namespace

void register_index(KernelTable& table) {
  constexpr int cpu = static_cast<int>(kCPU);
  table.gather[cpu] = &gather_kernel;
  table.index_select[cpu] = &index_select_kernel;
  table.scatter_add[cpu] = &scatter_add_kernel;
}

}  // namespace graft::kernels::cpu
