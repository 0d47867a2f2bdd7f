// The collectives: each checks its arguments on the calling thread, prepares dense
// buffers, and queues a Work whose `run` exchanges the buffers on the communication thread,
// through the backend of the tensors' device, and whose `finish` puts the result where the
// caller asked for it (comm_thread.h).
//
// Before exchanging, `run` compares a signature of the arguments across ranks (kind,
// dtype, reduction or source, shape): ranks that disagree would otherwise deadlock (different
// collectives), read past a buffer (different sizes) or reduce bytes as the wrong type. The
// comparison is one all-reduce of the signature and its negation under kMax, which gives
// every rank both the largest and the smallest value of each field; only when they differ
// does a second exchange gather every rank's signature to name them in the error. The
// signature lives in host memory: the host backend (MPI) compares it, whatever the device.
#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "graft/autograd/ops.h"
#include "graft/core/error.h"
#include "graft/distributed/process_group.h"

namespace graft::distributed {
namespace {

using detail::Backend;

enum class Kind : int64_t { kAllReduce = 1, kBroadcast, kAllGather, kReduceScatter, kBarrier };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kAllReduce:
      return "all_reduce";
    case Kind::kBroadcast:
      return "broadcast";
    case Kind::kAllGather:
      return "all_gather";
    case Kind::kReduceScatter:
      return "reduce_scatter";
    case Kind::kBarrier:
      return "barrier";
  }
  return "unknown collective";
}

// [kind, dtype, reduction or source, numel, ndim, the first kSignatureDims dims]. Shapes of
// more dims are compared through their numel and leading dims.
constexpr size_t kSignatureDims = 6;
constexpr size_t kSignatureSize = 5 + kSignatureDims;
using Signature = std::array<int64_t, kSignatureSize>;

// What a collective is called with: `detail` is the reduction or the source rank.
struct Call {
  Kind kind;
  DType dtype = kFloat32;
  int64_t detail = 0;
  Shape shape;
};

Signature signature_of(const Call& call) {
  Signature s{};
  s[0] = static_cast<int64_t>(call.kind);
  s[1] = static_cast<int64_t>(call.dtype);
  s[2] = call.detail;
  s[3] = call.shape.numel();
  s[4] = call.shape.size();
  for (size_t d = 0; d < kSignatureDims && static_cast<int64_t>(d) < call.shape.size(); ++d)
    s[5 + d] = call.shape[static_cast<int64_t>(d)];
  return s;
}

bool has_reduction(Kind kind) { return kind == Kind::kAllReduce || kind == Kind::kReduceScatter; }

// "all_reduce(float32 [3, 4], kSum)", from a signature (which may be another rank's).
std::string describe(const Signature& s) {
  const auto kind = static_cast<Kind>(s[0]);
  std::ostringstream out;
  out << kind_name(kind) << "(";
  if (kind != Kind::kBarrier) {
    out << dtype_name(static_cast<DType>(s[1])) << " [";
    const int64_t shown = std::min<int64_t>(s[4], kSignatureDims);
    for (int64_t d = 0; d < shown; ++d) out << (d ? ", " : "") << s[5 + d];
    if (s[4] > shown) out << ", ... (" << s[3] << " elements)";
    out << "]";
    if (has_reduction(kind)) out << ", " << reduce_op_name(static_cast<ReduceOp>(s[2]));
    if (kind == Kind::kBroadcast) out << ", src " << s[2];
  }
  out << ")";
  return out.str();
}

void check_same_on_every_rank(Backend& backend, const Signature& mine) {
  std::array<int64_t, 2 * kSignatureSize> extremes{};
  for (size_t i = 0; i < kSignatureSize; ++i) {
    extremes[i] = mine[i];
    extremes[kSignatureSize + i] = -mine[i];
  }
  backend.all_reduce(extremes.data(), static_cast<int64_t>(extremes.size()), kInt64,
                     ReduceOp::kMax);
  bool same = true;
  for (size_t i = 0; i < kSignatureSize; ++i)
    same = same && extremes[i] == -extremes[kSignatureSize + i];
  if (same) return;
  const int world = backend.world_size();
  std::vector<Signature> all(static_cast<size_t>(world));
  backend.all_gather(mine.data(), all.data(), sizeof(Signature));
  std::ostringstream message;
  message << "graft::distributed: the ranks called different collectives or passed different "
             "arguments, which MPI cannot reconcile:";
  for (int r = 0; r < world; ++r) message << "\n  rank " << r << ": " << describe(all[r]);
  message << "\nEvery rank must issue the same collectives, in the same order, on tensors of "
             "the same shape and dtype";
  throw Error(message.str());
}

// Queues the exchange `run` of memory on `device` (after the signature check) and returns
// its Work.
Work submit(const char* caller, const Call& call, Device device, std::function<void(Backend&)> run,
            std::function<void()> finish = {}) {
  detail::ProcessGroup& group = detail::process_group(caller);
  auto state = std::make_shared<Work::State>();
  const Signature signature = signature_of(call);
  state->description = describe(signature);
  const bool check = group.options.check_arguments && group.backend->world_size() > 1;
  // The group outlives its communication thread, which runs this.
  state->run = [&group, device, signature, check, run = std::move(run)] {
    if (check) check_same_on_every_rank(*group.backend, signature);
    run(group.backend_for(device));
  };
  state->finish = std::move(finish);
  state->deadline = std::chrono::steady_clock::now() + group.options.timeout;
  state->backend = group.backend.get();
  group.thread->submit(state);
  return Work(std::move(state));
}

int world_size_for(const char* caller) {
  return detail::process_group(caller).backend->world_size();
}

// Checks that `t` is defined and on a device this rank's collectives exchange.
void check_tensor(const char* caller, const Tensor& t, const char* what = "tensor") {
  GRAFT_CHECK(t.defined(), caller, ": ", what, " is undefined");
  detail::check_device(caller, detail::process_group(caller), t.device());
}

// Checks that `other` is on `t`'s device: one collective exchanges memory of one device.
void check_same_device(const char* caller, const Tensor& t, const char* t_name, const Tensor& other,
                       const char* other_name) {
  GRAFT_CHECK(other.device() == t.device(), caller, ": ", other_name, " is on ", other.device(),
              " but ", t_name, " is on ", t.device(), "; they must be on the same device");
}

void check_reduction(const char* caller, ReduceOp op, DType dtype) {
  GRAFT_CHECK(op != ReduceOp::kAvg || is_floating_point(dtype), caller,
              ": ReduceOp::kAvg needs a floating-point tensor, got ", dtype,
              "; reduce with kSum and divide, or convert with .to(graft::kFloat32) first");
}

// `t` itself when its elements are dense in memory, else a dense copy (written back by the
// collective's finish).
Tensor dense(const Tensor& t) { return t.is_contiguous() ? t : t.contiguous(); }

// The dense buffer an exchange writes the result into: dense(t), its write counted on the
// version counter (the exchange writes behind its back), so a saved tensor's check sees it.
Tensor result_buffer(const Tensor& t) {
  Tensor buffer = dense(t);
  buffer.storage()->bump_version();
  return buffer;
}

// What the backend reduces with: kAvg is a sum, divided by write_back.
ReduceOp exchanged_op(ReduceOp op) { return op == ReduceOp::kAvg ? ReduceOp::kSum : op; }

// Writes a collective's dense result back into the caller's tensor: divides for kAvg, and
// copies when the caller's tensor was not the buffer.
std::function<void()> write_back(Tensor target, Tensor buffer, ReduceOp op, int world) {
  return [target = std::move(target), buffer = std::move(buffer), op, world] {
    if (op == ReduceOp::kAvg && world > 1) buffer.div_(world);
    if (!target.is_same(buffer)) target.copy_(buffer);
  };
}

// `Shape (d0, d1, ...)` with d0 scaled by `world`; a 0-d piece gives (world,). The gathered
// side of all_gather and the scattered side of reduce_scatter.
Shape stacked_shape(const Shape& piece, int world) {
  std::vector<int64_t> dims = piece.vec();
  if (dims.empty()) return Shape({world});
  dims[0] *= world;
  return Shape(dims);
}

// Checks that `whole` is `world` pieces of `piece`'s shape and dtype along dim 0.
void check_stacked(const char* caller, const Tensor& whole, const char* whole_name,
                   const Tensor& piece, const char* piece_name, int world) {
  GRAFT_CHECK(whole.dtype() == piece.dtype(), caller, ": ", whole_name, " is ", whole.dtype(),
              " but ", piece_name, " is ", piece.dtype(), "; they must match");
  check_same_device(caller, whole, whole_name, piece, piece_name);
  const Shape expected = stacked_shape(piece.shape(), world);
  GRAFT_CHECK(whole.shape() == expected, caller, ": ", whole_name, " has shape ", whole.shape(),
              ", but ", world, " ranks' ", piece_name, "s of shape ", piece.shape(),
              " stacked along dim 0 have shape ", expected);
}

// Checks a list of one tensor per rank, each of `like`'s shape and dtype.
void check_per_rank(const char* caller, const std::vector<Tensor>& list, const char* list_name,
                    const Tensor& like, const char* like_name, int world) {
  GRAFT_CHECK(static_cast<int>(list.size()) == world, caller, ": got ", list.size(), " ", list_name,
              " for a world of ", world, "; pass one per rank");
  for (size_t r = 0; r < list.size(); ++r) {
    check_tensor(caller, list[r], list_name);
    GRAFT_CHECK(list[r].shape() == like.shape() && list[r].dtype() == like.dtype(), caller, ": ",
                list_name, "[", r, "] is ", list[r].dtype(), " ", list[r].shape(), " but ",
                like_name, " is ", like.dtype(), " ", like.shape(), "; they must match");
    check_same_device(caller, like, like_name, list[r], list_name);
  }
}

// all_gather into a checked `output`; `then` runs after the result is in place.
Work gather(const char* caller, const Tensor& output, const Tensor& input,
            std::function<void()> then = {}) {
  const int world = world_size_for(caller);
  const Tensor in = dense(input);
  const Tensor out = result_buffer(output);
  const void* source = in.data_ptr();
  void* target = out.data_ptr();
  const int64_t bytes = in.numel() * element_size(in.dtype());
  std::function<void()> put = write_back(output, out, ReduceOp::kSum, world);
  return submit(
      caller, {Kind::kAllGather, input.dtype(), 0, input.shape()}, input.device(),
      [in, source, target, bytes](Backend& backend) {
        (void)in;  // holds the input's memory until the exchange has read it
        backend.all_gather(source, target, bytes);
      },
      [put = std::move(put), then = std::move(then)] {
        put();
        if (then) then();
      });
}

// reduce_scatter of a checked, stacked `input` into `output`.
Work scatter(const char* caller, const Tensor& output, const Tensor& input, ReduceOp op) {
  check_reduction(caller, op, input.dtype());
  const int world = world_size_for(caller);
  const Tensor in = dense(input);
  const Tensor out = result_buffer(output);
  const void* source = in.data_ptr();
  void* target = out.data_ptr();
  const int64_t count = out.numel();
  const DType dtype = out.dtype();
  const ReduceOp exchanged = exchanged_op(op);
  return submit(
      caller, {Kind::kReduceScatter, dtype, static_cast<int64_t>(op), output.shape()},
      input.device(),
      [in, source, target, count, dtype, exchanged](Backend& backend) {
        (void)in;
        backend.reduce_scatter(source, target, count, dtype, exchanged);
      },
      write_back(output, out, op, world));
}

}  // namespace

Work all_reduce_async(const Tensor& tensor, ReduceOp op) {
  const char* caller = "all_reduce()";
  check_tensor(caller, tensor);
  check_reduction(caller, op, tensor.dtype());
  const int world = world_size_for(caller);
  const Tensor buffer = result_buffer(tensor);
  void* data = buffer.data_ptr();
  const int64_t count = buffer.numel();
  const DType dtype = buffer.dtype();
  const ReduceOp exchanged = exchanged_op(op);
  return submit(
      caller, {Kind::kAllReduce, dtype, static_cast<int64_t>(op), tensor.shape()}, tensor.device(),
      [=](Backend& backend) { backend.all_reduce(data, count, dtype, exchanged); },
      write_back(tensor, buffer, op, world));
}

Work broadcast_async(const Tensor& tensor, int src) {
  const char* caller = "broadcast()";
  check_tensor(caller, tensor);
  const int world = world_size_for(caller);
  GRAFT_CHECK(src >= 0 && src < world, caller, ": src ", src, " is not a rank of this world of ",
              world, " (ranks 0 to ", world - 1, ")");
  const Tensor buffer = result_buffer(tensor);
  void* data = buffer.data_ptr();
  const int64_t bytes = buffer.numel() * element_size(buffer.dtype());
  return submit(
      caller, {Kind::kBroadcast, tensor.dtype(), src, tensor.shape()}, tensor.device(),
      [=](Backend& backend) { backend.broadcast(data, bytes, src); },
      write_back(tensor, buffer, ReduceOp::kSum, world));
}

Work all_gather_into_tensor_async(const Tensor& output, const Tensor& input) {
  const char* caller = "all_gather_into_tensor()";
  check_tensor(caller, output, "output");
  check_tensor(caller, input, "input");
  check_stacked(caller, output, "output", input, "input", world_size_for(caller));
  return gather(caller, output, input);
}

Work all_gather_async(const std::vector<Tensor>& outputs, const Tensor& input) {
  const char* caller = "all_gather()";
  check_tensor(caller, input, "input");
  const int world = world_size_for(caller);
  check_per_rank(caller, outputs, "outputs", input, "the input", world);
  const Tensor gathered = empty(stacked_shape(input.shape(), world),
                                TensorOptions(input.dtype()).device(input.device()));
  const int64_t rows = input.dim() == 0 ? 1 : input.shape()[0];
  return gather(caller, gathered, input, [outputs, gathered, rows, shape = input.shape()] {
    for (size_t r = 0; r < outputs.size(); ++r)
      outputs[r].copy_(gathered.narrow(0, static_cast<int64_t>(r) * rows, rows).view(shape));
  });
}

Work reduce_scatter_tensor_async(const Tensor& output, const Tensor& input, ReduceOp op) {
  const char* caller = "reduce_scatter_tensor()";
  check_tensor(caller, output, "output");
  check_tensor(caller, input, "input");
  check_stacked(caller, input, "input", output, "output", world_size_for(caller));
  return scatter(caller, output, input, op);
}

Work reduce_scatter_async(const Tensor& output, const std::vector<Tensor>& inputs, ReduceOp op) {
  const char* caller = "reduce_scatter()";
  check_tensor(caller, output, "output");
  const int world = world_size_for(caller);
  check_per_rank(caller, inputs, "inputs", output, "the output", world);
  std::vector<Tensor> pieces;
  for (const Tensor& input : inputs)
    pieces.push_back(output.dim() == 0 ? input.reshape({1}) : input);
  return scatter(caller, output, cat(pieces, 0), op);
}

Work barrier_async() {
  return submit("barrier()", {Kind::kBarrier, kFloat32, 0, Shape()}, Device::cpu(),
                [](Backend& backend) { backend.barrier(); });
}

void all_reduce(const Tensor& tensor, ReduceOp op) { all_reduce_async(tensor, op).wait(); }
void broadcast(const Tensor& tensor, int src) { broadcast_async(tensor, src).wait(); }
void all_gather(const std::vector<Tensor>& outputs, const Tensor& input) {
  all_gather_async(outputs, input).wait();
}
void all_gather_into_tensor(const Tensor& output, const Tensor& input) {
  all_gather_into_tensor_async(output, input).wait();
}
void reduce_scatter(const Tensor& output, const std::vector<Tensor>& inputs, ReduceOp op) {
  reduce_scatter_async(output, inputs, op).wait();
}
void reduce_scatter_tensor(const Tensor& output, const Tensor& input, ReduceOp op) {
  reduce_scatter_tensor_async(output, input, op).wait();
}
void barrier() { barrier_async().wait(); }

}  // namespace graft::distributed
