// The global Philox stream: a seed and the next unused block, behind a mutex so that ops on
// several threads each get blocks of their own.
#include "graft/core/random.h"

namespace graft {

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  seed_ = seed;
  offset_ = 0;
}

uint64_t Generator::seed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seed_;
}

uint64_t Generator::offset() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return offset_;
}

PhiloxPosition Generator::reserve(uint64_t blocks) {
  std::lock_guard<std::mutex> lock(mutex_);
  const PhiloxPosition position{seed_, offset_};
  offset_ += blocks;
  return position;
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

}  // namespace graft
