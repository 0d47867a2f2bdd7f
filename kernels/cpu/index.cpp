// CPU indexing kernels: the walks of gather, index_select and scatter for
// kernels/index_kernels.h, which builds their nests and checks their index values, and
// nonzero.
//
// gather and index_select write each output element once, so their rows (every coordinate
// but the innermost) may run on any thread. scatter may add (or write) many sources into
// one element: it walks `dim` innermost and serially and splits only the rows, which hold
// different coordinates off `dim` and so write disjoint elements of self. The sums are then
// deterministic and need no atomics, and of several writes to one element the last in
// index order stays. nonzero counts each chunk's flags, then writes each chunk's rows.
//
// Bad index values are recorded by the thread that meets them and thrown as a graft::Error
// after the parallel region (see BadIndex).
#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <utility>
#include <vector>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/index_kernels.h"

namespace graft::kernels::cpu {
namespace {

// Calls block(offsets, count) for runs of up to `max_count` consecutive rows of the nest,
// offsets[r][k] being operand k's offset at the first element of row r; the body walks the
// inner dim itself. Runs are split across threads when the nest is large, never inside a run;
// a thread's share is cut shorter than a run only when the rows are too few for every thread
// to get one.
//
// Long runs are what scatter along dim 0 needs: at each step along dim it reads a run's
// stretch of a row of index and src, the next step a row further on (4 KB on for a float row
// of 1024). With runs of 64 rows, each step touched new pages for 768 bytes; with 512, the
// rows are read in 6 KB stretches. scatter_add over dim 0 of (1024, 1024), two threads, one
// target row per source row (a segment sum): 1.85-1.95 -> 1.06-1.14 ms (PyTorch 1.34-1.38);
// one target row per column: 1.80-1.81 -> 1.61-1.63 (1.49-1.50); random rows the same
// (2.1-2.3; PyTorch 2.5-2.6).
inline constexpr int kMaxRowBlock = 512;

template <int N, class Block>
void for_each_row_block(const Nest<N>& nest, int max_count, const Block& block) {
  const Nest<N> rows = nest.rows();
  int64_t grain = std::max<int64_t>(1, kParallelGrain / nest.inner_size());
  if (grain < max_count && rows.numel() > grain)
    grain = std::clamp<int64_t>(rows.numel() / available_threads(), grain, max_count);
  parallel_for(0, rows.numel(), grain, [&](int64_t begin, int64_t end) {
    int64_t coord[kMaxDims] = {};
    int64_t offsets[N];
    rows.offsets_at(begin, offsets, coord);
    int64_t run[kMaxRowBlock][N];
    int count = 0;
    for (int64_t r = begin; r < end; ++r) {
      std::copy(offsets, offsets + N, run[count]);
      if (++count == max_count || r + 1 == end) {
        block(run, count);
        count = 0;
      }
      // Odometer step to the next row: bump the last dim of `rows`, carrying leftwards.
      for (int d = rows.ndim - 1; d >= 0; --d) {
        for (int k = 0; k < N; ++k) offsets[k] += rows.strides[k][d];
        if (++coord[d] < rows.sizes[d]) break;
        for (int k = 0; k < N; ++k) offsets[k] -= rows.sizes[d] * rows.strides[k][d];
        coord[d] = 0;
      }
    }
  });
}

// Calls row(offsets) once per row of the nest (see for_each_row_block).
template <int N, class Row>
void for_each_row(const Nest<N>& nest, const Row& row) {
  for_each_row_block(nest, 1, [&](const int64_t(*run)[N], int) { row(run[0]); });
}

// An out-of-range index value a kernel met, recorded from any thread (the first to record
// one wins) and reported after the parallel region.
class BadIndex {
 public:
  void record(int64_t k) {
    if (!found_.exchange(true)) value_ = k;
  }
  void throw_if_found(const IndexBound& bound) const {
    if (found_.load()) [[unlikely]]
      bound.fail(value_);
  }

 private:
  std::atomic<bool> found_{false};
  int64_t value_ = 0;  // written once, by the thread that set found_
};

// The CPU's walks for index_kernels.h.
struct CpuIndexLoops {
  template <class I>
  static void gather(const GatherLoop<I>& loop) {
    const Nest<3>& nest = loop.nest;
    const int64_t size = loop.bound.size, self_step = loop.self_step;
    BadIndex bad;
    visit_dtype(loop.dtype, [&](auto tag) {
      using T = decltype(tag);
      for_each_row(nest, [&](const int64_t(&offsets)[3]) {
        const int64_t n = nest.inner_size(), so = nest.inner_stride(0), ss = nest.inner_stride(1),
                      si = nest.inner_stride(2);
        T* to = reinterpret_cast<T*>(loop.out) + offsets[0];
        const T* from = reinterpret_cast<const T*>(loop.self) + offsets[1];
        const I* at = loop.index + offsets[2];
        if (si == 0) {  // one index value for the whole row, as in index_select: copy a row
          const int64_t k = at[0];
          if (out_of_range(k, size)) [[unlikely]]
            return bad.record(k);
          const T* row = from + k * self_step;
          if (so == 1 && ss == 1)  // contiguous rows: one copy, where the strided loop stays scalar
            std::memcpy(to, row, static_cast<size_t>(n) * sizeof(T));
          else
            for (int64_t i = 0; i < n; ++i) to[i * so] = row[i * ss];
          return;
        }
        for (int64_t i = 0; i < n; ++i) {
          const int64_t k = at[i * si];
          if (out_of_range(k, size)) [[unlikely]]
            return bad.record(k);
          to[i * so] = from[i * ss + k * self_step];
        }
      });
    });
    bad.throw_if_found(loop.bound);
  }

  static void check_index(const IndexBound& bound, const Nest<1>& index_nest,
                          const int64_t* index) {
    BadIndex bad;
    for_each_row(index_nest, [&](const int64_t(&offsets)[1]) {
      const int64_t n = index_nest.inner_size(), si = index_nest.inner_stride(0);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = index[offsets[0] + i * si];
        if (out_of_range(k, bound.size)) [[unlikely]]
          return bad.record(k);
      }
    });
    bad.throw_if_found(bound);
  }

  // `dim` innermost, so a row holds every source of its elements and no two threads share
  // an element. When `dim` is not the last dim, rows go in runs of consecutive ones read
  // source-major: a contiguous index and src are then read along their rows rather than
  // down their columns, and each element still receives its sources in order of c[dim].
  template <bool Accumulate, class T>
  static void scatter(const ScatterLoop<T>& loop) {
    const Nest<3> nest = loop.nest.with_innermost(loop.dim);
    const int64_t n = nest.inner_size(), si = nest.inner_stride(1), ss = nest.inner_stride(2);
    const int64_t self_step = loop.self_step;
    T* self = loop.self;
    const int64_t* index = loop.index;
    const T* src = loop.src;
    const int run_length = loop.dim == nest.ndim - 1 ? 1 : kMaxRowBlock;
    for_each_row_block(nest, run_length, [&](const int64_t(*run)[3], int count) {
      for (int64_t i = 0; i < n; ++i)
        for (int r = 0; r < count; ++r)
          scatter_one<Accumulate>(self[run[r][0] + index[run[r][1] + i * si] * self_step],
                                  src[run[r][2] + i * ss]);
    });
  }
};

// nonzero in two passes over fixed chunks of the flags, each spread over the threads: every
// chunk's count of true flags (a byte sum the compiler vectorises), then every chunk writes
// its rows from where the counts before it end. A chunk stores each position's coordinates
// and moves on a row only for a true flag, where a branch on the flag is mispredicted half the
// time on random masks, until its last row is written; the coordinates are stepped as an
// odometer from the chunk's first position. nonzero of a million random flags, (1024, 1024),
// in one serial pass, branching and copying each row by memmove: 8.5 ms, against PyTorch's
// 3.1; this way 0.76 (two threads, the 2-core Xeon).
constexpr int64_t kNonzeroChunk = int64_t{1} << 16;

// The rows of the flags [begin, end) into out from `row` on, until `last`: kDims
// coordinates, a count known when compiled (a loop over a count known only at run time, GCC
// turns into a call to memmove for every position).
template <int kDims>
void write_nonzero_rows(const NonzeroArgs& args, int64_t begin, int64_t end, int64_t* row,
                        const int64_t* last) {
  int64_t coord[kDims];
  for (int64_t d = kDims - 1, rest = begin; d >= 0; --d) {
    coord[d] = rest % args.sizes[d];
    rest /= args.sizes[d];
  }
  for (int64_t p = begin; p < end && row < last; ++p) {
    for (int d = 0; d < kDims; ++d) row[d] = coord[d];
    row += args.flags[p] ? kDims : 0;
    for (int d = kDims - 1; d >= 0 && ++coord[d] == args.sizes[d]; --d) coord[d] = 0;
  }
}

template <int... kDims>
constexpr auto nonzero_writers(std::integer_sequence<int, kDims...>) {
  return std::array{&write_nonzero_rows<kDims + 1>...};
}

void nonzero_cpu(const NonzeroArgs& args) {
  static constexpr auto kWriters = nonzero_writers(std::make_integer_sequence<int, kMaxDims>{});
  const int ndim = args.ndim;
  const int64_t chunks = (args.numel + kNonzeroChunk - 1) / kNonzeroChunk;
  const auto chunk_end = [&](int64_t c) { return std::min(args.numel, (c + 1) * kNonzeroChunk); };
  std::vector<int64_t> first_row(chunks + 1, 0);  // chunk c's rows: [first_row[c], [c + 1])
  parallel_blocks(chunks, [&](int64_t c) {
    int64_t count = 0;
    for (int64_t p = c * kNonzeroChunk, end = chunk_end(c); p < end; ++p) count += args.flags[p];
    first_row[c + 1] = count;
  });
  for (int64_t c = 0; c < chunks; ++c) first_row[c + 1] += first_row[c];
  parallel_blocks(chunks, [&](int64_t c) {
    kWriters[ndim - 1](args, c * kNonzeroChunk, chunk_end(c), args.out + first_row[c] * ndim,
                       args.out + first_row[c + 1] * ndim);
  });
}

}  // namespace

void register_index(KernelTable& table) {
  register_index_kernels<CpuIndexLoops>(table, kCPU);
  table.nonzero[static_cast<int>(kCPU)] = &nonzero_cpu;
}

}  // namespace graft::kernels::cpu
