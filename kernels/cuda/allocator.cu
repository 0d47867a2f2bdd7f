// The CUDA caching allocator, host <-> device transfers and the graft::cuda runtime API.
//
// cudaMalloc and cudaFree synchronise the device and cost tens of microseconds, far more
// than a small kernel, so freed blocks are kept in a cache and handed out again. Requests
// are rounded up to a size class (512 B steps up to 1 MiB, then 2 MiB steps) and a freed
// block waits in the free list of its class and device. Because every kernel runs on the
// default stream, a block reused by the next op is only touched after the work of its
// previous owner. When cudaMalloc fails the cache is emptied and the request retried
// once; a second failure is a graft::Error with the request size and the device's state.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "graft/kernels/cuda/common.cuh"
#include "graft/kernels/cuda/cuda_kernels.h"
#include "graft/kernels/cuda/runtime.h"

namespace graft::kernels::cuda {
namespace {

constexpr size_t kSmallStep = 512;
constexpr size_t kSmallLimit = size_t{1} << 20;
constexpr size_t kLargeStep = size_t{2} << 20;

size_t size_class(size_t nbytes) {
  const size_t step = nbytes <= kSmallLimit ? kSmallStep : kLargeStep;
  return std::max<size_t>((nbytes + step - 1) / step * step, step);
}

class CachingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device device) override {
    static const int device_count = graft::cuda::device_count();
    GRAFT_CHECK(device.index() < device_count, "cannot allocate memory on ", device, ": ",
                device_count == 0
                    ? "no CUDA device is visible on this machine (no GPU or no driver)"
                    : "this machine shows only ",
                device_count == 0 ? "" : std::to_string(device_count),
                device_count == 0 ? "" : " CUDA device(s)");
    const size_t size = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    PerDeviceState& state = state_for(device.index());
    void* ptr = nullptr;
    auto cached = state.free_blocks.find(size);
    if (cached != state.free_blocks.end() && !cached->second.empty()) {
      ptr = cached->second.back();
      cached->second.pop_back();
    } else {
      DeviceGuard guard(device);
      if (cudaMalloc(&ptr, size) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky-free error before retrying
        release_cached(device.index(), state);
        if (cudaMalloc(&ptr, size) != cudaSuccess) {
          cudaGetLastError();
          size_t free_bytes = 0, total_bytes = 0;
          cudaMemGetInfo(&free_bytes, &total_bytes);
          throw OutOfMemoryError(detail::make_message(
              "CUDA out of memory: tried to allocate ", describe_bytes(nbytes), " on ", device,
              " (", describe_bytes(total_bytes), " total, ", describe_bytes(free_bytes), " free, ",
              describe_bytes(static_cast<size_t>(state.stats.allocated)),
              " held by graft tensors). Free tensors you no longer need or use smaller batches"));
        }
      }
      state.stats.reserved += static_cast<int64_t>(size);
    }
    state.stats.allocated += static_cast<int64_t>(size);
    state.stats.peak_allocated = std::max(state.stats.peak_allocated, state.stats.allocated);
    return ptr;
  }

  // The requested size gives the block's size class: no map of live blocks to look up.
  void deallocate(void* ptr, size_t nbytes, Device device) override {
    const size_t size = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    PerDeviceState& state = state_for(device.index());
    state.free_blocks[size].push_back(ptr);
    state.stats.allocated -= static_cast<int64_t>(size);
  }

  graft::cuda::MemoryStats stats(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_for(device).stats;
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [device, state] : devices_) release_cached(device, state);
  }

 private:
  struct PerDeviceState {
    std::map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
    graft::cuda::MemoryStats stats;
  };

  PerDeviceState& state_for(int device) { return devices_[device]; }

  void release_cached(int device, PerDeviceState& state) {
    DeviceGuard guard(Device::cuda(device));
    for (auto& [size, blocks] : state.free_blocks) {
      for (void* ptr : blocks) {
        cudaFree(ptr);
        state.stats.reserved -= static_cast<int64_t>(size);
      }
      blocks.clear();
    }
  }

  std::mutex mutex_;
  std::map<int, PerDeviceState> devices_;
};

CachingAllocator& caching_allocator() {
  // Never destroyed: tensors in static storage may free their blocks after main returns.
  static auto* allocator = new CachingAllocator();
  return *allocator;
}

// Copies nbytes of contiguous memory between any two of host and devices.
void transfer(void* dst, Device dst_device, const void* src, Device src_device, int64_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device != src_device) {
    GRAFT_CUDA_CHECK(cudaMemcpyPeer(dst, dst_device.index(), src, src_device.index(),
                                    static_cast<size_t>(nbytes)));
    return;
  }
  DeviceGuard guard(dst_device.is_cuda() ? dst_device : src_device);
  GRAFT_CUDA_CHECK(cudaMemcpy(dst, src, static_cast<size_t>(nbytes), cudaMemcpyDefault));
}

}  // namespace

void register_runtime(KernelTable& table) {
  table.allocator[static_cast<int>(kCUDA)] = &caching_allocator();
  table.transfer = &transfer;
}

}  // namespace graft::kernels::cuda

namespace graft::cuda {

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: report none
    return 0;
  }
  return count;
}

bool is_available() { return device_count() > 0; }

MemoryStats memory_stats(int device) { return kernels::cuda::caching_allocator().stats(device); }

void empty_cache() { kernels::cuda::caching_allocator().empty_cache(); }

void synchronize() { GRAFT_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace graft::cuda
