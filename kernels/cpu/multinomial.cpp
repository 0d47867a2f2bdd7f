// CPU multinomial: the sampler of kernels/multinomial.h, rows split across threads.
//
// Every draw depends only on (seed, offset, row, sample), never on which thread ran the
// row, so the thread split cannot change a sample (and CUDA gives the same ones). A bad row
// is recorded by its thread and reported after the parallel region: the smallest one, as
// the CUDA kernel reports it, whatever the thread split.
#include <algorithm>
#include <atomic>
#include <limits>

#include "graft/kernels/cpu/cpu_kernels.h"
#include "graft/kernels/cpu/parallel.h"
#include "graft/kernels/multinomial.h"

namespace graft::kernels::cpu {
namespace {

void multinomial_kernel(const MultinomialArgs& args) {
  constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
  std::atomic<uint64_t> first_bad{kNone};
  // Work per row: one pass to check it, then a binary search or a pass per sample.
  const int64_t per_row =
      args.n + args.num_samples * (args.replacement ? 1 + args.n / 64 : 2 * args.n);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(per_row, 1));
  visit_floating_or_16_bit_dtype("multinomial", args.dtype, [&](auto tag) {
    using T = decltype(tag);
    parallel_for(0, args.rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const MultinomialCheck check = prepare_row<T>(args, row);
        if (check != MultinomialCheck::kOk) {
          const uint64_t encoded =
              static_cast<uint64_t>(row) * kMultinomialChecks + static_cast<uint64_t>(check);
          uint64_t seen = first_bad.load();
          while (encoded < seen && !first_bad.compare_exchange_weak(seen, encoded)) {
          }
          continue;
        }
        if (!args.replacement) {
          draw_without_replacement(args, row);
          continue;
        }
        for (int64_t s = 0; s < args.num_samples; ++s)
          args.out[row * args.num_samples + s] = draw_with_replacement(args, row, s);
      }
    });
  });
  if (first_bad.load() != kNone) [[unlikely]]
    fail_multinomial(first_bad.load(), args);
}

}  // namespace

void register_multinomial(KernelTable& table) {
  table.multinomial[static_cast<int>(kCPU)] = &multinomial_kernel;
}

}  // namespace graft::kernels::cpu
