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
// Index values are checked before anything is written. A thread that finds a bad value only
// records it; the throw happens after the parallel region, since an exception must not
// leave an OpenMP region.
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

// Calls row(offsets) once per row of the nest (a combination of its outer coordinates),
// offsets[k] being operand k's offset at the row's first element; the row walks the inner
// dim itself. Rows are split across threads when the nest is large.
template <int N, class Row>
void for_each_row(const LoopNest<N>& nest, const Row& row) {
  const int outer = nest.ndim - 1;
  int64_t rows = 1;
  for (int d = 0; d < outer; ++d) rows *= nest.sizes[d];
  const int64_t inner = nest.inner_size();
  if (rows == 0 || inner == 0) return;
  parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / inner),
               [&](int64_t begin, int64_t end) {
                 int64_t coord[kMaxDims] = {};
                 int64_t offsets[N] = {};
                 for (int64_t d = outer - 1, rest = begin; d >= 0; --d) {
                   coord[d] = rest % nest.sizes[d];
                   rest /= nest.sizes[d];
                   for (int k = 0; k < N; ++k) offsets[k] += coord[d] * nest.strides[k][d];
                 }
                 for (int64_t r = begin; r < end; ++r) {
                   row(offsets);
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

// Throws unless every index value (operand 0 of `nest`) lies in [0, size).
template <class I>
void check_index_range(const char* op, int dim, int64_t size, const I* index,
                       const LoopNest<1>& nest) {
  std::atomic<bool> found{false};
  int64_t bad = 0;  // written once, by the thread that set `found`
  for_each_row(nest, [&](const int64_t(&offsets)[1]) {
    const int64_t n = nest.inner_size(), step = nest.inner_stride(0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = index[offsets[0] + i * step];
      if (k < 0 || k >= size) [[unlikely]] {
        if (!found.exchange(true)) bad = k;
        return;
      }
    }
  });
  GRAFT_CHECK(!found.load(), op, "(): index ", bad, " is out of bounds for dimension ", dim,
              " with size ", size);
}

// out[c] = self[c with c[dim] = index[c]] over `sizes`: gather, and index_select with its
// 1-D index broadcast over the other dims (stride 0 there).
template <class I>
void gather_loop(int ndim, int dim, const int64_t* sizes, const StridedOperand& out,
                 const StridedOperand& self, const I* index, const int64_t* index_strides) {
  const auto self_loop = without_dim(self.strides, dim);
  const int64_t self_step = self.strides[dim];
  const auto nest =
      make_nest<3>(ndim, sizes, ndim - 1, {out.strides, self_loop.data(), index_strides});
  visit_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* dst = reinterpret_cast<T*>(out.data);
    const T* src = reinterpret_cast<const T*>(self.data);
    for_each_row(nest, [&](const int64_t(&offsets)[3]) {
      const int64_t n = nest.inner_size(), so = nest.inner_stride(0), ss = nest.inner_stride(1),
                    si = nest.inner_stride(2);
      for (int64_t i = 0; i < n; ++i)
        dst[offsets[0] + i * so] =
            src[offsets[1] + i * ss + index[offsets[2] + i * si] * self_step];
    });
  });
}

void gather_kernel(const GatherArgs& args) {
  const auto* index = reinterpret_cast<const int64_t*>(args.index.data);
  check_index_range("gather", args.dim, args.self_dim_size, index,
                    make_nest<1>(args.ndim, args.sizes, args.ndim - 1, {args.index.strides}));
  gather_loop(args.ndim, args.dim, args.sizes, args.out, args.self, index, args.index.strides);
}

void index_select_kernel(const IndexSelectArgs& args) {
  LoopNest<1> line;  // the 1-D index on its own, checked once per value
  line.ndim = 1;
  line.sizes[0] = args.sizes[args.dim];
  line.strides[0][0] = args.index_stride;
  int64_t index_strides[kMaxDims] = {};
  index_strides[args.dim] = args.index_stride;
  auto run = [&](const auto* index) {
    check_index_range("index_select", args.dim, args.self_dim_size, index, line);
    gather_loop(args.ndim, args.dim, args.sizes, args.out, args.self, index, index_strides);
  };
  if (args.index_dtype == kInt32) {
    run(static_cast<const int32_t*>(args.index));
  } else {
    GRAFT_CHECK(args.index_dtype == kInt64,
                "index_select(): the kernel takes an int32 or int64 index, got ", args.index_dtype);
    run(static_cast<const int64_t*>(args.index));
  }
}

void scatter_add_kernel(const ScatterAddArgs& args) {
  const auto* index = reinterpret_cast<const int64_t*>(args.index.data);
  check_index_range("scatter_add", args.dim, args.self_dim_size, index,
                    make_nest<1>(args.ndim, args.sizes, args.ndim - 1, {args.index.strides}));
  const auto self_loop = without_dim(args.self.strides, args.dim);
  const int64_t self_step = args.self.strides[args.dim];
  // `dim` innermost: one row, one thread, so each element's sum runs in order of c[dim].
  const auto nest = make_nest<3>(args.ndim, args.sizes, args.dim,
                                 {self_loop.data(), args.index.strides, args.src.strides});
  visit_dtype(args.self.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* self = reinterpret_cast<T*>(args.self.data);
    const T* src = reinterpret_cast<const T*>(args.src.data);
    for_each_row(nest, [&](const int64_t(&offsets)[3]) {
      const int64_t n = nest.inner_size(), si = nest.inner_stride(1), ss = nest.inner_stride(2);
      for (int64_t i = 0; i < n; ++i) {
        T& dst = self[offsets[0] + index[offsets[1] + i * si] * self_step];
        // The sum in the promoted int is cast back: for bool that is a logical or, as
        // PyTorch's CPU scatter_add does.
        dst = static_cast<T>(dst + src[offsets[2] + i * ss]);
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
