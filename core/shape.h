// Shape: the sizes (or strides) of a tensor, and the arithmetic on them.
//
// A Shape is a small vector of int64_t stored inline (no heap allocation), because every
// op builds a few of them and the host overhead of a tiny op is part of graft's budget.
// The inline capacity, kMaxDims, bounds the rank of a tensor.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "graft/core/error.h"

namespace graft {

inline constexpr int kMaxDims = 16;

class Shape {
 public:
  Shape() = default;
  // Copies only the live sizes: the slots past size() are never read, and leaving them
  // unwritten spares every op the zeroing of kMaxDims slots per Shape it builds.
  Shape(const Shape& other) : size_(other.size_) {
    std::copy_n(other.data_.begin(), size_, data_.begin());
  }
  Shape& operator=(const Shape& other) {
    size_ = other.size_;
    std::copy_n(other.data_.begin(), size_, data_.begin());
    return *this;
  }
  Shape(std::initializer_list<int64_t> sizes) { assign(sizes.begin(), sizes.end()); }
  Shape(const std::vector<int64_t>& sizes) { assign(sizes.begin(), sizes.end()); }  // NOLINT
  // A shape of `n` copies of `value`.
  static Shape filled(int64_t n, int64_t value);

  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t& operator[](int64_t i) { return data_[i]; }
  int64_t operator[](int64_t i) const { return data_[i]; }
  int64_t back() const { return data_[size_ - 1]; }
  int64_t* begin() { return data_.data(); }
  int64_t* end() { return data_.data() + size_; }
  const int64_t* begin() const { return data_.data(); }
  const int64_t* end() const { return data_.data() + size_; }
  const int64_t* data() const { return data_.data(); }

  void push_back(int64_t value);
  void insert(int64_t pos, int64_t value);
  void erase(int64_t pos);
  void pop_back() { --size_; }

  // Product of the sizes; 1 for the empty shape (a 0-d tensor has one element). A product
  // that does not fit in int64 is an error rather than a wrapped, tiny count: every size
  // computed from it (bytes to allocate, loop bounds) would be silently wrong.
  int64_t numel() const;
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  std::string str() const;  // "(2, 3)", "(3,)", "()"

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  template <class It>
  void assign(It first, It last) {
    auto n = static_cast<int64_t>(last - first);
    GRAFT_CHECK(n <= kMaxDims, "Shape: graft tensors have at most ", kMaxDims, " dims, got ", n);
    size_ = n;
    for (int64_t i = 0; first != last; ++first, ++i) data_[i] = *first;
  }

  std::array<int64_t, kMaxDims> data_;  // data_[0, size_) is the shape
  int64_t size_ = 0;
};

std::ostream& operator<<(std::ostream& out, const Shape& shape);

// Row-major strides (in elements) of a contiguous tensor of `shape`. Sizes of 0 count as 1,
// so even an empty tensor's strides must fit in int64; the error says when they do not.
Shape contiguous_strides(const Shape& shape);

// The byte size of a contiguous tensor of `shape` with elements of `element_size` bytes, or
// nullopt when a size is negative or that size or a contiguous stride overflows int64 (so
// the sizes of 0 count as 1 for the overflow check, as in contiguous_strides). The one check
// of an untrusted shape, used by the factories and by every file loader, each of which
// words the error for its own caller.
std::optional<int64_t> contiguous_nbytes(const Shape& shape, int64_t element_size);

// How many elements of memory a tensor of (shape, strides) spans from its first element to
// its last, both included; 0 when it is empty. Strides are never negative in graft.
int64_t storage_span(const Shape& shape, const Shape& strides);

// NumPy broadcasting of two shapes; the error names both shapes, the dim and both sizes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast");

// Maps a possibly negative dim into [0, ndim); the error names the op and the valid range.
// A 0-d tensor accepts dims -1 and 0 (as PyTorch does) when `scalar_ok` is set.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op, bool scalar_ok = true);

}  // namespace graft
