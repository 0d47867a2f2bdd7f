// CPU sort and top-k: per line along the dim, lines split across threads.
//
// A line is copied into a buffer of (key, index) entries (kernels/sort_keys.h), which the
// standard library orders with sorts_before: a strict total order, so std::sort gives the
// stable result and both directions and NaNs are handled by the keys alone. topk never
// sorts the whole line: std::partial_sort keeps the k first entries in order (O(n log k)),
// and with sorted = false std::nth_element only gathers them (O(n)), after which they are
// put in index order, which is what the CUDA kernel's compaction gives too. The values
// written are the input's own elements, read back through the winning indices.
#include <algorithm>
#include <vector>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/sort.h"
#include "graft/kernels/sort_keys.h"

namespace graft::kernels::cpu {
namespace {

template <class T>
struct Entry {
  SortKey<T> key;
  int64_t index;
};

// The order of kernels/sort_keys.h on entries; a type rather than a function pointer, so
// that the standard algorithms inline it.
struct EntryBefore {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return sorts_before(a.key, a.index, b.key, b.index);
  }
};

// For every line: fill a buffer with its entries, let `select(first, last)` bring the k
// entries the op keeps to the front in the order it wants, and write them out.
template <class T, class Select>
void for_each_line(const SortArgs& args, const Select& select) {
  const int64_t n = args.n, k = args.k, inner = args.inner;
  const T* input = static_cast<const T*>(args.input);
  T* values = static_cast<T*>(args.values);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
  parallel_for(0, args.outer * inner, grain, [&](int64_t begin, int64_t end) {
    std::vector<Entry<T>> line(static_cast<size_t>(n));
    for (int64_t l = begin; l < end; ++l) {
      const int64_t o = l / inner, i = l - o * inner;
      const T* in = input + o * n * inner + i;  // (n) with step inner
      for (int64_t j = 0; j < n; ++j) line[j] = {sort_key(in[j * inner], args.descending), j};
      select(line.begin(), line.end());
      T* out = values + o * k * inner + i;  // (k) with step inner
      int64_t* at = args.indices + o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        out[j * inner] = in[line[j].index * inner];
        at[j * inner] = line[j].index;
      }
    }
  });
}

void sort_kernel(const SortArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    for_each_line<T>(args, [](auto first, auto last) { std::sort(first, last, EntryBefore{}); });
  });
}

void topk_kernel(const SortArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const int64_t k = args.k;
    for_each_line<T>(args, [&](auto first, auto last) {
      if (args.sorted) {
        std::partial_sort(first, first + k, last, EntryBefore{});
        return;
      }
      std::nth_element(first, first + k, last, EntryBefore{});
      std::sort(first, first + k,
                [](const Entry<T>& a, const Entry<T>& b) { return a.index < b.index; });
    });
  });
}

}  // namespace

void register_sort(KernelTable& table) {
  table.sort[static_cast<int>(kCPU)] = &sort_kernel;
  table.topk[static_cast<int>(kCPU)] = &topk_kernel;
}

}  // namespace graft::kernels::cpu
