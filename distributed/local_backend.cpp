// A world of one: what every collective does when this process is the only rank. Gathers
// and scatters copy (their input and output are different buffers); everything else
// already holds its result.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "graft/distributed/backend.h"

namespace graft::distributed::detail {
namespace {

class LocalBackend final : public Backend {
 public:
  std::string name() const override { return "local"; }
  int rank() const override { return 0; }
  int world_size() const override { return 1; }

  void all_reduce(void*, int64_t, DType, ReduceOp) override {}
  void broadcast(void*, int64_t, int) override {}
  void all_gather(const void* input, void* output, int64_t bytes_per_rank) override {
    if (bytes_per_rank > 0) std::memcpy(output, input, static_cast<size_t>(bytes_per_rank));
  }
  void reduce_scatter(const void* input, void* output, int64_t count_per_rank, DType dtype,
                      ReduceOp) override {
    all_gather(input, output, count_per_rank * element_size(dtype));
  }
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    std::abort();
  }
};

}  // namespace

std::unique_ptr<Backend> make_local_backend() { return std::make_unique<LocalBackend>(); }

}  // namespace graft::distributed::detail
