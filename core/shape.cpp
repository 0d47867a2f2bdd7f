// Shape arithmetic; see shape.h.
#include "graft/core/shape.h"

#include <algorithm>
#include <sstream>

namespace graft {

Shape Shape::filled(int64_t n, int64_t value) {
  GRAFT_CHECK(n >= 0 && n <= kMaxDims, "Shape: graft tensors have at most ", kMaxDims,
              " dims, got ", n);
  Shape s;
  s.size_ = n;
  for (int64_t i = 0; i < n; ++i) s.data_[i] = value;
  return s;
}

void Shape::push_back(int64_t value) {
  GRAFT_CHECK(size_ < kMaxDims, "Shape: graft tensors have at most ", kMaxDims, " dims");
  data_[size_++] = value;
}

void Shape::insert(int64_t pos, int64_t value) {
  push_back(0);
  for (int64_t i = size_ - 1; i > pos; --i) data_[i] = data_[i - 1];
  data_[pos] = value;
}

void Shape::erase(int64_t pos) {
  for (int64_t i = pos; i + 1 < size_; ++i) data_[i] = data_[i + 1];
  --size_;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t s : *this) {
    if (__builtin_mul_overflow(n, s, &n)) [[unlikely]]
      detail::fail("the shape ", *this, " has more elements than a 64-bit count can hold");
  }
  return n;
}

std::string Shape::str() const {
  std::ostringstream out;
  out << '(';
  for (int64_t i = 0; i < size_; ++i) out << (i ? ", " : "") << data_[i];
  out << (size_ == 1 ? ",)" : ")");
  return out.str();
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.size_ != b.size_) return false;
  for (int64_t i = 0; i < a.size_; ++i)
    if (a.data_[i] != b.data_[i]) return false;
  return true;
}

std::ostream& operator<<(std::ostream& out, const Shape& shape) { return out << shape.str(); }

Shape contiguous_strides(const Shape& shape) {
  Shape strides = Shape::filled(shape.size(), 1);
  for (int64_t i = shape.size() - 2; i >= 0; --i) {
    if (__builtin_mul_overflow(strides[i + 1], std::max<int64_t>(shape[i + 1], 1), &strides[i]))
        [[unlikely]]
      detail::fail("the shape ", shape, " is too large: its contiguous strides overflow int64");
  }
  return strides;
}

std::optional<int64_t> contiguous_nbytes(const Shape& shape, int64_t element_size) {
  int64_t bound = element_size, nbytes = element_size;
  for (const int64_t size : shape) {
    if (size < 0 || __builtin_mul_overflow(bound, std::max<int64_t>(size, 1), &bound))
      return std::nullopt;
    nbytes *= size;  // cannot overflow: nbytes <= bound
  }
  return nbytes;
}

int64_t storage_span(const Shape& shape, const Shape& strides) {
  if (shape.numel() == 0) return 0;
  int64_t last = 0;
  for (int64_t i = 0; i < shape.size(); ++i) last += (shape[i] - 1) * strides[i];
  return last + 1;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int64_t n = std::max(a.size(), b.size());
  Shape out = Shape::filled(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    // Align from the right: dim i of the result is dim i - (n - rank) of each operand.
    const int64_t ia = i - (n - a.size()), ib = i - (n - b.size());
    const int64_t sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
    GRAFT_CHECK(sa == sb || sa == 1 || sb == 1, op, "(): the size of tensor a (", sa,
                ") must match the size of tensor b (", sb, ") at non-singleton dimension ", i,
                "; shapes ", a, " and ", b, " cannot be broadcast together");
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op, bool scalar_ok) {
  const int64_t n = (ndim == 0 && scalar_ok) ? 1 : ndim;
  GRAFT_CHECK(n > 0, op, "(): dimension specified as ", dim, " but tensor has no dimensions");
  GRAFT_CHECK(dim >= -n && dim < n, op, "(): dimension out of range (expected to be in range of [",
              -n, ", ", n - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

}  // namespace graft
