// Storage: one block of memory shared by a tensor and all of its views.
//
// The block is freed by its deleter when the last Tensor (or view) referring to it dies:
// graft's own allocations return to their allocator, from_blob's borrowed memory is left
// alone, and from_blob with a deleter hands the memory back to its owner.
//
// The version counter lives here, not on the tensor, so that every view of the block sees
// one count: autograd records it when it saves a tensor and compares at backward time, to
// catch in-place writes (through any view) to values the backward still needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "graft/core/allocator.h"
#include "graft/core/device.h"

namespace graft {

class Storage {
 public:
  using Deleter = std::function<void(void*)>;

  // A block of `allocator`'s, handed back to it when the storage dies.
  Storage(void* data, size_t nbytes, Device device, Allocator& allocator)
      : data_(data), nbytes_(nbytes), device_(device), allocator_(&allocator) {}
  // Memory graft does not own (from_blob): `deleter`, when there is one, frees it.
  Storage(void* data, size_t nbytes, Device device, Deleter deleter)
      : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}
  ~Storage() {
    if (allocator_ != nullptr)
      allocator_->deallocate(data_, nbytes_, device_);
    else if (deleter_)
      deleter_(data_);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // A fresh block from the device's allocator.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // How many in-place writes the block has seen; every in-place op bumps it once.
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
  Allocator* allocator_ = nullptr;  // set for graft's own blocks, which need no Deleter
  Deleter deleter_;
  uint64_t version_ = 0;
};

}  // namespace graft
