// The NCCL backend: graft's collectives on CUDA tensors as NCCL's, one GPU per rank.
//
// NCCL's library is opened when the first collective on a CUDA tensor needs it (dlopen of
// libnccl.so.2), not linked: a build with the CUDA backend then starts, and trains on the CPU
// or on one GPU, on a machine without NCCL's 200 MB runtime, and only a collective on a CUDA
// tensor says that it is missing. Its header, which the build finds beside the CUDA toolkit,
// gives the types and the functions' signatures.
//
// The communicator: rank 0 makes NCCL's unique id, the host backend (MPI) broadcasts it, and
// every rank joins with it on its GPU, cuda:(local rank % visible devices), as llm.c does. A
// world of one needs no MPI: its id stays at home. The communicator is made on the
// communication thread at the first collective on a CUDA tensor, which every rank reaches in
// the same order, as NCCL's initialisation (itself collective) requires.
//
// Streams: graft's CUDA kernels run on the default stream, so the collectives do too, each
// after whatever the caller queued before it (the tensor's producer) and before what it
// queues after; the communication thread then waits for the stream, so that a Work is done
// when its result is in place.
//
// Reductions: kSum, kMax and kMin are NCCL's (kAvg never reaches a backend). bool travels as
// bytes of 0 and 1, and its sum and max are a max: a logical OR, as PyTorch's NCCL backend
// does; its min is AND.
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "graft/core/error.h"
#include "graft/distributed/backend.h"
#include "graft/kernels/cuda/runtime.h"

namespace graft::distributed::detail {
namespace {

// The NCCL functions graft calls, looked up in the library once it is open.
struct NcclLibrary {
  decltype(&ncclGetVersion) get_version = nullptr;
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclCommAbort) comm_abort = nullptr;
  decltype(&ncclGetErrorString) get_error_string = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclBroadcast) broadcast = nullptr;
  decltype(&ncclAllGather) all_gather = nullptr;
  decltype(&ncclReduceScatter) reduce_scatter = nullptr;
  std::string error;  // why it could not be opened or lacks a function; empty when usable
  bool usable() const { return error.empty(); }
};

// Looks `name` up in `handle` into `function`; false (and `error` set) when it is missing.
template <class Function>
bool look_up(void* handle, const char* name, Function& function, std::string& error) {
  function = reinterpret_cast<Function>(dlsym(handle, name));
  if (function == nullptr) error = std::string("libnccl.so.2 has no ") + name;
  return function != nullptr;
}

NcclLibrary open_library() {
  NcclLibrary library;
  // Never closed: NCCL's own threads may outlive any point at which it would be safe.
  void* handle = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    library.error = reason != nullptr ? reason : "libnccl.so.2 could not be opened";
    return library;
  }
  std::string& error = library.error;
  // Stops at the first missing function, which sets `error`.
  (void)(look_up(handle, "ncclGetVersion", library.get_version, error) &&
         look_up(handle, "ncclGetUniqueId", library.get_unique_id, error) &&
         look_up(handle, "ncclCommInitRank", library.comm_init_rank, error) &&
         look_up(handle, "ncclCommDestroy", library.comm_destroy, error) &&
         look_up(handle, "ncclCommAbort", library.comm_abort, error) &&
         look_up(handle, "ncclGetErrorString", library.get_error_string, error) &&
         look_up(handle, "ncclAllReduce", library.all_reduce, error) &&
         look_up(handle, "ncclBroadcast", library.broadcast, error) &&
         look_up(handle, "ncclAllGather", library.all_gather, error) &&
         look_up(handle, "ncclReduceScatter", library.reduce_scatter, error));
  return library;
}

const NcclLibrary& library() {
  static const NcclLibrary opened = open_library();
  return opened;
}

// The open library, or a graft::Error saying why there is none.
const NcclLibrary& nccl() {
  const NcclLibrary& nccl = library();
  GRAFT_CHECK(nccl.usable(),
              "graft::distributed: collectives on CUDA tensors need NCCL's library, which could "
              "not be loaded (",
              nccl.error,
              "); install NCCL (NVIDIA's libnccl2, or the one beside the CUDA toolkit) where the "
              "loader finds it, or copy the tensors to the CPU with .cpu()");
  return nccl;
}

void check_nccl(ncclResult_t result, const char* call) {
  if (result == ncclSuccess) return;
  graft::detail::fail(call, " failed: ", library().get_error_string(result));
}

void check_cuda(cudaError_t result, const char* call) {
  if (result == cudaSuccess) return;
  graft::detail::fail(call, " failed: ", cudaGetErrorString(result));
}

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case kBool:
    case kUInt8:
      return ncclUint8;
    case kInt32:
      return ncclInt32;
    case kInt64:
      return ncclInt64;
    case kFloat16:
      return ncclFloat16;
    case kBFloat16:
      return ncclBfloat16;
    case kFloat32:
      return ncclFloat32;
    case kFloat64:
      return ncclFloat64;
  }
  graft::detail::fail("graft::distributed: no NCCL type for dtype ", dtype);
}

ncclRedOp_t nccl_op(ReduceOp op, DType dtype) {
  switch (op) {
    case ReduceOp::kSum:
      return dtype == kBool ? ncclMax : ncclSum;
    case ReduceOp::kMax:
      return ncclMax;
    case ReduceOp::kMin:
      return ncclMin;
    case ReduceOp::kAvg:
      break;
  }
  graft::detail::fail("graft::distributed: ", reduce_op_name(op), " is not an NCCL reduction");
}

class NcclBackend final : public Backend {
 public:
  NcclBackend(Backend& host, const LaunchInfo& launch)
      : host_(host), device_(nccl_device_index(launch)) {
    const NcclLibrary& library = nccl();
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    ncclUniqueId id{};
    if (host.rank() == 0) check_nccl(library.get_unique_id(&id), "ncclGetUniqueId");
    host.broadcast(&id, sizeof(id), 0);
    check_nccl(library.comm_init_rank(&comm_, host.world_size(), id, host.rank()),
               "ncclCommInitRank");
  }

  ~NcclBackend() override {
    cudaSetDevice(device_);
    library().comm_destroy(comm_);
  }

  std::string name() const override { return "nccl"; }
  int rank() const override { return host_.rank(); }
  int world_size() const override { return host_.world_size(); }

  void all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    run("ncclAllReduce", count, [&](cudaStream_t stream) {
      return nccl().all_reduce(data, data, static_cast<size_t>(count), nccl_type(dtype),
                               nccl_op(op, dtype), comm_, stream);
    });
  }

  void broadcast(void* data, int64_t bytes, int src) override {
    run("ncclBroadcast", bytes, [&](cudaStream_t stream) {
      return nccl().broadcast(data, data, static_cast<size_t>(bytes), ncclUint8, src, comm_,
                              stream);
    });
  }

  void all_gather(const void* input, void* output, int64_t bytes_per_rank) override {
    run("ncclAllGather", bytes_per_rank, [&](cudaStream_t stream) {
      return nccl().all_gather(input, output, static_cast<size_t>(bytes_per_rank), ncclUint8, comm_,
                               stream);
    });
  }

  void reduce_scatter(const void* input, void* output, int64_t count_per_rank, DType dtype,
                      ReduceOp op) override {
    run("ncclReduceScatter", count_per_rank, [&](cudaStream_t stream) {
      return nccl().reduce_scatter(input, output, static_cast<size_t>(count_per_rank),
                                   nccl_type(dtype), nccl_op(op, dtype), comm_, stream);
    });
  }

  void barrier() override { host_.barrier(); }

  [[noreturn]] void abort(const std::string& message) override {
    // Frees this rank's GPUs from a collective its peers will never join, then ends the job.
    library().comm_abort(comm_);
    host_.abort(message);
    std::abort();  // host_.abort does not return; GCC does not see it through a virtual call
  }

 private:
  // Queues one NCCL call on the default stream of this rank's GPU (`call` returns its
  // result) and waits for it; none for no elements (every rank has the same count: the
  // arguments were compared), whose buffers may be null, which NCCL's checks refuse.
  template <class Call>
  void run(const char* name, int64_t count, const Call& call) {
    if (count == 0) return;
    constexpr cudaStream_t kDefaultStream = nullptr;
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    check_nccl(call(kDefaultStream), name);
    check_cuda(cudaStreamSynchronize(kDefaultStream), "cudaStreamSynchronize");
  }

  Backend& host_;
  int device_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

bool nccl_library_loads() { return library().usable(); }

std::string nccl_version() {
  if (!nccl_library_loads()) return "";
  int code = 0;
  check_nccl(library().get_version(&code), "ncclGetVersion");
  // NCCL_VERSION(X, Y, Z) is X * 10000 + Y * 100 + Z from 2.9 on.
  return std::to_string(code / 10000) + "." + std::to_string(code / 100 % 100) + "." +
         std::to_string(code % 100);
}

int nccl_device_index(const LaunchInfo& launch) {
  const int devices = cuda::device_count();
  GRAFT_CHECK(devices > 0,
              "graft::distributed: a collective on a CUDA tensor, but no CUDA device is visible");
  return launch.local_rank % devices;
}

std::unique_ptr<Backend> make_nccl_backend(Backend& host, const LaunchInfo& launch) {
  return std::make_unique<NcclBackend>(host, launch);
}

}  // namespace graft::distributed::detail
