// The MPI backend: graft's collectives as MPI's, on a private copy of MPI_COMM_WORLD.
//
// MPI is initialised with MPI_THREAD_MULTIPLE: the communication thread makes the
// collectives while another thread may call MPI_Abort when a wait times out. Errors come
// back as return codes (MPI_ERRORS_RETURN) and become graft::Error with MPI's own text,
// instead of MPI's default of ending the job from inside the call. MPI counts are `int`,
// so a reduction or broadcast of more than 2^30 elements goes in pieces. float16 and
// bfloat16 have no MPI types (Open MPI 4.1): they travel as 16-bit words, and reduce with
// MPI ops of graft's own that compute in float and round once per pairwise step, as NCCL does.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
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
    case kFloat16:
    case kBFloat16:
      return MPI_UINT16_T;
    case kFloat32:
      return MPI_FLOAT;
    case kFloat64:
      return MPI_DOUBLE;
  }
  graft::detail::fail("graft::distributed: no MPI type for dtype ", dtype);
}

// inout[i] = in[i] (op) inout[i] for 16-bit floats, in float; a NaN wins max and min.
template <class T, ReduceOp kOp>
void reduce_float16(void* in, void* inout, int* count, MPI_Datatype* /*type*/) {
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  for (int i = 0; i < *count; ++i) {
    const float x = a[i], y = b[i];
    if constexpr (kOp == ReduceOp::kSum) {
      b[i] = T(x + y);
    } else if (x != x || (kOp == ReduceOp::kMax ? x > y : x < y)) {
      b[i] = a[i];
    }
  }
}

// The user-defined ops of the two 16-bit types, made after MPI_Init and freed before
// MPI_Finalize.
class Float16Ops {
 public:
  Float16Ops() {
    create<Half>(0);
    create<BFloat16>(1);
  }
  ~Float16Ops() {
    for (auto& of_type : ops_)
      for (MPI_Op& op : of_type) MPI_Op_free(&op);
  }
  Float16Ops(const Float16Ops&) = delete;
  Float16Ops& operator=(const Float16Ops&) = delete;

  MPI_Op get(ReduceOp op, DType dtype) const {
    GRAFT_CHECK(op != ReduceOp::kAvg, "graft::distributed: kAvg is not an MPI reduction");
    return ops_[dtype == kBFloat16 ? 1 : 0][static_cast<int>(op == ReduceOp::kSum   ? 0
                                                             : op == ReduceOp::kMax ? 1
                                                                                    : 2)];
  }

 private:
  template <class T>
  void create(int type) {
    // commute = 1: the three are commutative, so MPI may combine in any order.
    check_mpi(MPI_Op_create(&reduce_float16<T, ReduceOp::kSum>, 1, &ops_[type][0]),
              "MPI_Op_create");
    check_mpi(MPI_Op_create(&reduce_float16<T, ReduceOp::kMax>, 1, &ops_[type][1]),
              "MPI_Op_create");
    check_mpi(MPI_Op_create(&reduce_float16<T, ReduceOp::kMin>, 1, &ops_[type][2]),
              "MPI_Op_create");
  }
  MPI_Op ops_[2][3] = {};
};

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
    float16_ops_ = std::make_unique<Float16Ops>();
  }

  ~MpiBackend() override {
    float16_ops_.reset();
    MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  std::string name() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }

  MPI_Op reduction(ReduceOp op, DType dtype) const {
    return is_reduced_floating_point(dtype) ? float16_ops_->get(op, dtype) : mpi_op(op, dtype);
  }

  void all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    auto* bytes = static_cast<char*>(data);
    for (int64_t done = 0; done < count; done += kMaxCount) {
      const auto piece = static_cast<int>(std::min(kMaxCount, count - done));
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, bytes + done * element_size(dtype), piece,
                              mpi_type(dtype), reduction(op, dtype), comm_),
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
    check_mpi(MPI_Reduce_scatter_block(input, output, count, mpi_type(dtype), reduction(op, dtype),
                                       comm_),
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
  std::unique_ptr<Float16Ops> float16_ops_;
};

}  // namespace

std::unique_ptr<Backend> make_mpi_backend() { return std::make_unique<MpiBackend>(); }

}  // namespace graft::distributed::detail
