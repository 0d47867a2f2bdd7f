// DistributedDataParallel's reducer: buckets, the hooks that fill them, and the callback
// that ends each synchronised backward pass (data_parallel.h explains the design).
//
// Each bucket is one flat tensor of its parameters' dtype: the gradients side by side, then
// one "has a gradient" flag per parameter (1 or 0). The flags travel in the same all-reduce
// as the gradients, so after it every rank knows which parameters any rank had a gradient
// for, at no extra message. The bucket is reduced with kAvg: gradients become the mean over
// ranks (a rank without one counts as zero, as in PyTorch) and a flag above zero means
// somebody had one.
#include "graft/distributed/data_parallel.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "graft/autograd/engine.h"
#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"
#include "graft/core/error.h"
#include "graft/distributed/distributed.h"

namespace graft::nn::parallel {

namespace dist = graft::distributed;

namespace {

struct Bucket {
  std::vector<size_t> params;    // indices into the reducer's parameters
  std::vector<int64_t> offsets;  // where each gradient starts in `buffer`
  int64_t flags_offset = 0;      // the flags follow the gradients
  Tensor buffer;
  size_t pending = 0;  // gradients still to arrive in this pass
  dist::Work work;
};

// Gives every rank rank 0's values of `tensors`: queued together, then waited for.
void broadcast_from_rank0(const std::vector<Tensor>& tensors) {
  std::vector<dist::Work> copies;
  for (const Tensor& t : tensors) copies.push_back(dist::broadcast_async(t, 0));
  for (const dist::Work& work : copies) work.wait();
}

// Every rank must wrap the same parameters: compares (count, total elements, a hash of the
// shapes and dtypes) across ranks and names the ranks that differ.
void check_same_parameters(const std::vector<std::pair<std::string, Tensor>>& named) {
  int64_t numel = 0;
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over dtype and dims
  const auto mix = [&hash](int64_t value) {
    hash = (hash ^ static_cast<uint64_t>(value)) * 1099511628211ull;
  };
  for (const auto& [name, p] : named) {
    numel += p.numel();
    mix(static_cast<int64_t>(p.dtype()));
    for (int64_t d : p.shape()) mix(d);
    mix(-1);
  }
  const int world = dist::get_world_size();
  const Tensor mine =
      tensor({static_cast<int64_t>(named.size()), numel, static_cast<int64_t>(hash >> 1)}, kInt64);
  const Tensor all = empty({3 * world}, kInt64);
  dist::all_gather_into_tensor(all, mine);
  const std::vector<int64_t> values = all.to_vector<int64_t>();
  bool same = true;
  for (int r = 1; r < world; ++r)
    same = same && std::equal(values.begin(), values.begin() + 3, values.begin() + 3 * r);
  if (same) return;
  std::ostringstream message;
  message << "DistributedDataParallel: the ranks wrap different models (parameter count, "
             "element count, shapes):";
  for (int r = 0; r < world; ++r)
    message << "\n  rank " << r << ": " << values[3 * r] << " parameters, " << values[3 * r + 1]
            << " elements, shape hash " << values[3 * r + 2];
  message << "\nBuild the same model on every rank";
  throw Error(message.str());
}

}  // namespace

class DistributedDataParallel::Reducer
    : public std::enable_shared_from_this<DistributedDataParallel::Reducer> {
 public:
  Reducer(std::vector<Tensor> params, double bucket_cap_mb) : params_(std::move(params)) {
    make_buckets(bucket_cap_mb);
    ready_.assign(params_.size(), false);
  }

  // From a parameter's post-accumulate hook: its gradient is complete for this pass.
  void on_gradient(size_t index) {
    if (!sync_) return;
    if (!pass_open_) start_pass();
    if (ready_[index]) return;  // a leaf is accumulated once per pass; defensive
    ready_[index] = true;
    const auto [b, slot] = location_[index];
    Bucket& bucket = buckets_[b];
    fill_slot(bucket, slot, params_[index].grad());
    if (--bucket.pending == 0) launch_ready_buckets();
  }

  void set_sync(bool sync) { sync_ = sync; }
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  void make_buckets(double cap_mb) {
    const auto cap_bytes = static_cast<int64_t>(cap_mb * 1024 * 1024);
    location_.resize(params_.size());
    // Reverse registration order: the backward pass reaches the last layers first.
    std::vector<Bucket> open;  // one open bucket per dtype
    std::vector<int64_t> open_bytes;
    for (size_t k = params_.size(); k-- > 0;) {
      const Tensor& p = params_[k];
      size_t which = open.size();
      for (size_t o = 0; o < open.size(); ++o)
        if (params_[open[o].params.front()].dtype() == p.dtype()) which = o;
      if (which == open.size()) {
        open.emplace_back();
        open_bytes.push_back(0);
      }
      open[which].params.push_back(k);
      open_bytes[which] += p.numel() * element_size(p.dtype());
      if (open_bytes[which] >= cap_bytes) {
        buckets_.push_back(std::move(open[which]));
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(which));
        open_bytes.erase(open_bytes.begin() + static_cast<std::ptrdiff_t>(which));
      }
    }
    for (Bucket& bucket : open) buckets_.push_back(std::move(bucket));
    for (size_t b = 0; b < buckets_.size(); ++b) {
      Bucket& bucket = buckets_[b];
      int64_t offset = 0;
      for (size_t slot = 0; slot < bucket.params.size(); ++slot) {
        bucket.offsets.push_back(offset);
        offset += params_[bucket.params[slot]].numel();
        location_[bucket.params[slot]] = {b, slot};
      }
      bucket.flags_offset = offset;
      const Tensor& first = params_[bucket.params.front()];
      bucket.buffer = zeros({offset + static_cast<int64_t>(bucket.params.size())},
                            TensorOptions(first.dtype()).device(first.device()));
    }
  }

  void start_pass() {
    pass_open_ = true;
    next_to_launch_ = 0;
    std::fill(ready_.begin(), ready_.end(), false);
    for (Bucket& bucket : buckets_) bucket.pending = bucket.params.size();
    // The callback holds the reducer: it must outlive the pass it ends.
    autograd::queue_callback([self = shared_from_this()] { self->finish_pass(); });
  }

  // Copies `grad` into its slot and sets its flag; an undefined one leaves zeros, flag 0.
  void fill_slot(Bucket& bucket, size_t slot, const Tensor& grad) const {
    autograd::NoGradGuard no_grad;
    const int64_t numel = params_[bucket.params[slot]].numel();
    Tensor flat = bucket.buffer.narrow(0, bucket.offsets[slot], numel);
    if (!grad.defined())
      flat.zero_();
    else if (grad.data_ptr() != flat.data_ptr())  // not already accumulated in place
      flat.copy_(grad.reshape({numel}));
    bucket.buffer.narrow(0, bucket.flags_offset + static_cast<int64_t>(slot), 1)
        .fill_(grad.defined() ? 1 : 0);
  }

  // Starts the all-reduces of the complete buckets at the front of the order.
  void launch_ready_buckets() {
    while (next_to_launch_ < buckets_.size() && buckets_[next_to_launch_].pending == 0) {
      Bucket& bucket = buckets_[next_to_launch_++];
      bucket.work = dist::all_reduce_async(bucket.buffer, dist::ReduceOp::kAvg);
    }
  }

  // End of the backward pass: the buckets still open get what their parameters have
  // (a .grad from earlier passes, or nothing), then every average goes into .grad.
  void finish_pass() {
    pass_open_ = false;
    for (size_t k = 0; k < params_.size(); ++k) {
      if (ready_[k]) continue;
      const auto [b, slot] = location_[k];
      fill_slot(buckets_[b], slot, params_[k].grad());
      --buckets_[b].pending;
    }
    launch_ready_buckets();
    autograd::NoGradGuard no_grad;
    for (Bucket& bucket : buckets_) {
      bucket.work.wait();
      const std::vector<double> flags =
          bucket.buffer.narrow(0, bucket.flags_offset, static_cast<int64_t>(bucket.params.size()))
              .to_vector<double>();
      for (size_t slot = 0; slot < bucket.params.size(); ++slot) {
        if (flags[slot] == 0) continue;  // no rank has a gradient for it
        // The gradient becomes a view of its bucket (PyTorch's gradient_as_bucket_view):
        // no copy out, and a later pass that accumulates into it (zero_grad without
        // set_to_none, or no_sync) writes straight into the bucket, no copy in either.
        const Tensor& p = params_[bucket.params[slot]];
        p.mutable_grad() = bucket.buffer.narrow(0, bucket.offsets[slot], p.numel()).view(p.shape());
      }
    }
  }

  std::vector<Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> location_;  // parameter -> (bucket, slot)
  std::vector<bool> ready_;
  size_t next_to_launch_ = 0;
  bool pass_open_ = false;
  bool sync_ = true;
};

DistributedDataParallel::DistributedDataParallel(Module& module,
                                                 DistributedDataParallelOptions options)
    : module_(module), options_(options) {
  GRAFT_CHECK(dist::is_initialized(),
              "DistributedDataParallel: the default process group has not been initialized; "
              "call graft::distributed::init_process_group() first");
  GRAFT_CHECK(options.bucket_cap_mb > 0,
              "DistributedDataParallel: bucket_cap_mb must be "
              "positive, got ",
              options.bucket_cap_mb);
  std::vector<std::pair<std::string, Tensor>> named;
  for (auto& [name, p] : module.named_parameters())
    if (p.requires_grad()) named.emplace_back(name, p);
  // One device, whose backend reduces every bucket (MPI for the CPU, NCCL for a GPU).
  for (const auto& [name, p] : named)
    GRAFT_CHECK(p.device() == named.front().second.device(), "DistributedDataParallel: parameter '",
                name, "' is on ", p.device(), " but '", named.front().first, "' is on ",
                named.front().second.device(),
                "; a model must be on one device: move it with module.to(...)");
  check_same_parameters(named);

  std::vector<Tensor> params;
  for (const auto& [name, p] : named) params.push_back(p);
  std::vector<Tensor> state = params;  // rank 0's initial values everywhere
  for (const Tensor& b : module.buffers()) state.push_back(b);
  broadcast_from_rank0(state);
  reducer_ = std::make_shared<Reducer>(params, options.bucket_cap_mb);
  const std::weak_ptr<Reducer> weak = reducer_;
  for (size_t k = 0; k < params.size(); ++k)
    params[k].register_post_accumulate_grad_hook([weak, k](const Tensor&) {
      if (const auto reducer = weak.lock()) reducer->on_gradient(k);
    });
}

DistributedDataParallel::~DistributedDataParallel() = default;

Tensor DistributedDataParallel::forward(const Tensor& input) {
  if (options_.broadcast_buffers && dist::get_world_size() > 1)
    broadcast_from_rank0(module_.buffers());
  reducer_->set_sync(!no_sync_);
  return module_.forward(input);
}

std::vector<std::vector<size_t>> DistributedDataParallel::bucket_assignment() const {
  std::vector<std::vector<size_t>> assignment;
  for (const Bucket& bucket : reducer_->buckets()) assignment.push_back(bucket.params);
  return assignment;
}

DistributedDataParallel::NoSyncGuard::NoSyncGuard(DistributedDataParallel& ddp)
    : ddp_(ddp), previous_(ddp.no_sync_) {
  ddp.no_sync_ = true;
}

DistributedDataParallel::NoSyncGuard::~NoSyncGuard() { ddp_.no_sync_ = previous_; }

}  // namespace graft::nn::parallel
