// The MPI backend: graft's collectives as MPI's, on a private copy of MPI_COMM_WORLD.
//
// MPI is initialised with MPI_THREAD_MULTIPLE: the communication thread makes the
// collectives while another thread may call MPI_Abort when a wait times out. Errors come
// back as return codes (MPI_ERRORS_RETURN) and become graft::Error with MPI's own text,
// instead of MPI's default of ending the job from inside the call. MPI counts are `int`,
// so a reduction or broadcast of more than 2^30 elements goes in pieces.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "graft/core/error.h"
#include "graft/distributed/backend.h"

namespace graft::distributed::detail {
namespace {

constexpr int64_t kMaxCount = int64_t{1} << 30;

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  graft::detail::fail(call, " failed: ", std::string(text, static_cast<size_t>(length)));
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case kBool:
      return MPI_C_BOOL;
    case kUInt8:
      return MPI_UINT8_T;
    case kInt32:
      return MPI_INT32_T;
    case kInt64:
      return MPI_INT64_T;
    case kFloat32:
      return MPI_FLOAT;
    case kFloat64:
      return MPI_DOUBLE;
  }
  graft::detail::fail("graft::distributed: no MPI type for dtype ", dtype);
}

// MPI defines only logical operations on C bools, so bool's sum and max are OR.
MPI_Op mpi_op(ReduceOp op, DType dtype) {
  const bool logical = dtype == kBool;
  switch (op) {
    case ReduceOp::kSum:
      return logical ? MPI_LOR : MPI_SUM;
    case ReduceOp::kMax:
      return logical ? MPI_LOR : MPI_MAX;
    case ReduceOp::kMin:
      return logical ? MPI_LAND : MPI_MIN;
    case ReduceOp::kAvg:
      break;
  }
  graft::detail::fail("graft::distributed: ", reduce_op_name(op), " is not an MPI reduction");
}

int checked_count(int64_t count, const char* call) {
  GRAFT_CHECK(count <= INT32_MAX, call, ": ", count,
              " elements per rank is more than MPI can count in one call (2^31 - 1)");
  return static_cast<int>(count);
}

class MpiBackend final : public Backend {
 public:
  MpiBackend() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    owns_mpi_ = initialized == 0;
    int provided = MPI_THREAD_SINGLE;
    if (owns_mpi_) {
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
    } else {
      MPI_Query_thread(&provided);
    }
    GRAFT_CHECK(provided >= MPI_THREAD_SERIALIZED,
                "init_process_group(): MPI was initialised without thread support (level ",
                provided,
                "); graft calls MPI from its communication thread, so initialise MPI with "
                "MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...) or let graft do it");
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &world_size_);
  }

  ~MpiBackend() override {
    MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  std::string name() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }

  void all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    auto* bytes = static_cast<char*>(data);
    for (int64_t done = 0; done < count; done += kMaxCount) {
      const auto piece = static_cast<int>(std::min(kMaxCount, count - done));
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, bytes + done * element_size(dtype), piece,
                              mpi_type(dtype), mpi_op(op, dtype), comm_),
                "MPI_Allreduce");
    }
  }

  void broadcast(void* data, int64_t bytes, int src) override {
    auto* base = static_cast<char*>(data);
    for (int64_t done = 0; done < bytes; done += kMaxCount) {
      const auto piece = static_cast<int>(std::min(kMaxCount, bytes - done));
      check_mpi(MPI_Bcast(base + done, piece, MPI_BYTE, src, comm_), "MPI_Bcast");
    }
  }

  void all_gather(const void* input, void* output, int64_t bytes_per_rank) override {
    const int count = checked_count(bytes_per_rank, "all_gather");
    check_mpi(MPI_Allgather(input, count, MPI_BYTE, output, count, MPI_BYTE, comm_),
              "MPI_Allgather");
  }

  void reduce_scatter(const void* input, void* output, int64_t count_per_rank, DType dtype,
                      ReduceOp op) override {
    const int count = checked_count(count_per_rank, "reduce_scatter");
    check_mpi(
        MPI_Reduce_scatter_block(input, output, count, mpi_type(dtype), mpi_op(op, dtype), comm_),
        "MPI_Reduce_scatter_block");
  }

  void barrier() override { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::abort();  // MPI_Abort does not return; this tells the compiler so
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int world_size_ = 1;
  bool owns_mpi_ = false;
};

}  // namespace

std::unique_ptr<Backend> make_mpi_backend() { return std::make_unique<MpiBackend>(); }

}  // namespace graft::distributed::detail
