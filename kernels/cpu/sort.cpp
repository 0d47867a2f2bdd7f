// CPU sort and top-k: per line along the dim, lines split across threads.
//
// A line is copied into a buffer of (key, index) entries (kernels/sort_keys.h), in index
// order. A short line is ordered by the standard library with sorts_before: a strict total
// order, so std::sort gives the stable result and both directions and NaNs are handled by the
// keys alone. A longer one by a radix sort of the keys, a byte a pass from the lowest: each
// pass is stable, so equal keys stay in index order, the same result. One line of 2^20
// floats (the versus row): std::sort 96-98 ms, PyTorch's stable sort 101-135, the radix sort
// 47, and 21-28 with its buffers kept from call to call and its values made from their keys.
//
// topk never sorts the whole line: for a small k one pass keeps the best entries so far
// (best_entries); otherwise std::partial_sort keeps the k first entries in order (O(n log
// k)), and with sorted = false std::nth_element only gathers them (O(n)), after which they
// are put in index order, which is what the CUDA kernel's compaction gives too.
//
// The values written are the input's own elements: made from their keys (value_of_key), or
// read back through the winning indices where a key does not tell (zeros, NaN). Read back
// each, a random access, they cost that line of 2^20 floats 3-4 ms more (26-31 against 22-28).
#include <algorithm>
#include <array>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/cpu/thread_buffer.h"
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

// The ThreadBuffers (thread_buffer.h) of a line's entries and of the radix sort's other
// buffer: kept from call to call, where a vector of each call's own was faulted in anew at
// every sort of a long line.
struct LineEntries;
struct ScratchEntries;

// For every line: let `select(in, line, scratch)` put the k entries the op keeps at the front
// of `line` (room for n), in the order it wants (`scratch` is a ThreadBuffer it may use), and
// write them out: each value from its key where the key tells it (value_of_key), else read
// back through its index.
template <class T, class Select>
void for_each_line(const SortArgs& args, const Select& select) {
  const int64_t n = args.n, k = args.k, inner = args.inner;
  const bool descending = args.descending;
  const T* input = static_cast<const T*>(args.input);
  T* values = static_cast<T*>(args.values);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
  parallel_for(0, args.outer * inner, grain, [&](int64_t begin, int64_t end) {
    ThreadBuffer<Entry<T>, LineEntries> line_space;
    ThreadBuffer<Entry<T>, ScratchEntries> scratch;
    Entry<T>* const line = line_space.data(n);
    for (int64_t l = begin; l < end; ++l) {
      const int64_t o = l / inner, i = l - o * inner;
      const T* in = input + o * n * inner + i;  // (n) with step inner
      select(in, line, scratch);
      T* out = values + o * k * inner + i;  // (k) with step inner
      int64_t* at = args.indices + o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        const Entry<T>& entry = line[j];
        T value;
        out[j * inner] =
            value_of_key(entry.key, descending, value) ? value : in[entry.index * inner];
        at[j * inner] = entry.index;
      }
    }
  });
}

// line[0, n) = the entries of the whole line (n, with step inner).
template <class T>
void all_entries(const SortArgs& args, const T* in, Entry<T>* line) {
  for (int64_t j = 0; j < args.n; ++j) line[j] = {sort_key(in[j * args.inner], args.descending), j};
}

// k at most this keeps its best entries in one pass (best_entries) rather than selecting
// them from the whole line's.
constexpr int64_t kFewBest = 16;

// line[0, k) = the line's k first entries in order, in one pass that keeps the best so far
// sorted: an entry enters only if it comes before the k-th best (an equal key, coming later,
// does not), by insertion. After the first few hundred elements almost no entry does, so the
// keys are made a block at a time (a loop the compiler vectorises) with their minimum, and a
// block is walked only when that minimum would enter. Writing every (key, index) entry of
// the line and partially sorting them took 1.3 times PyTorch's topk (k = 10, rows of 4096).
template <class T>
void best_entries(const SortArgs& args, const T* in, Entry<T>* line) {
  using K = SortKey<T>;
  constexpr int64_t kBlock = 64;
  const int64_t k = args.k, inner = args.inner;
  const bool descending = args.descending;
  int64_t count = 0;
  K keys[kBlock];
  T gathered[kBlock];  // a strided line's block, made contiguous for the key loop
  for (int64_t j0 = 0; j0 < args.n; j0 += kBlock) {
    const int64_t size = std::min(kBlock, args.n - j0);
    const T* block = in + j0 * inner;
    if (inner != 1) {
      for (int64_t t = 0; t < size; ++t) gathered[t] = block[t * inner];
      block = gathered;
    }
    for (int64_t t = 0; t < size; ++t) keys[t] = sort_key(block[t], descending);
    K lowest = static_cast<K>(~K{0});
    for (int64_t t = 0; t < size; ++t) lowest = std::min(lowest, keys[t]);
    if (count == k && !(lowest < line[k - 1].key)) continue;
    for (int64_t t = 0; t < size; ++t) {
      const K key = keys[t];
      if (count == k && !(key < line[k - 1].key)) continue;
      int64_t p = count < k ? count++ : k - 1;
      for (; p > 0 && key < line[p - 1].key; --p) line[p] = line[p - 1];
      line[p] = {key, j0 + t};
    }
  }
}

// Lines from this long are radix sorted; shorter ones by std::sort, faster there. A million
// floats in lines of n, one thread, std::sort against the radix sort: n = 8 12 ms against 54
// (the counts of every byte, 8 KB, cleared and summed a line), 32 22 against 20, 64 26
// against 12-20, 1024 45 against 7.4.
constexpr int64_t kRadixFrom = 64;

// line[0, n), in index order, sorted by key: a counting sort on each byte of the keys from
// the lowest, each stable, so entries with equal keys keep their index order. Every byte's
// counts come from one pass over the keys; a byte every key shares (the high bytes of numbers
// of one sign and magnitude, say) is skipped. scratch holds the other buffer of each pass.
template <class T>
void radix_sort(Entry<T>* line, int64_t n, ThreadBuffer<Entry<T>, ScratchEntries>& scratch) {
  using K = SortKey<T>;
  constexpr int kBytes = sizeof(K);
  std::array<std::array<int64_t, 256>, kBytes> counts{};
  for (int64_t i = 0; i < n; ++i)
    for (int b = 0; b < kBytes; ++b) ++counts[b][line[i].key >> (8 * b) & 0xff];
  Entry<T>* from = line;
  Entry<T>* to = scratch.data(n);
  for (int b = 0; b < kBytes; ++b) {
    const std::array<int64_t, 256>& count = counts[b];
    if (count[from[0].key >> (8 * b) & 0xff] == n) continue;
    int64_t next[256];
    for (int64_t digit = 0, start = 0; digit < 256; start += count[digit++]) next[digit] = start;
    for (int64_t i = 0; i < n; ++i) to[next[from[i].key >> (8 * b) & 0xff]++] = from[i];
    std::swap(from, to);
  }
  if (from != line) std::copy(from, from + n, line);
}

void sort_kernel(const SortArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = args.n;
    for_each_line<T>(args, [&](const T* in, Entry<T>* line, auto& scratch) {
      all_entries(args, in, line);
      if (n >= kRadixFrom)
        radix_sort(line, n, scratch);
      else
        std::sort(line, line + n, EntryBefore{});
    });
  });
}

void topk_kernel(const SortArgs& args) {
  visit_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const int64_t k = args.k;
    const int64_t n = args.n;
    for_each_line<T>(args, [&](const T* in, Entry<T>* line, auto&) {
      if (k <= kFewBest) {
        best_entries(args, in, line);  // in order
      } else {
        all_entries(args, in, line);
        if (args.sorted)
          std::partial_sort(line, line + k, line + n, EntryBefore{});
        else
          std::nth_element(line, line + k, line + n, EntryBefore{});
      }
      // Unsorted: the k kept entries in index order, as the CUDA kernel's compaction gives.
      if (!args.sorted)
        std::sort(line, line + k,
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
