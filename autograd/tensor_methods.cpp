// Tensor's math methods: each one forwards to the free function of the same name.
#include "graft/autograd/ops.h"

namespace graft {

#define GRAFT_FORWARD_UNARY(name, ...)                       \
  Tensor Tensor::name() const { return graft::name(*this); } \
  const Tensor& Tensor::name##_() const { return graft::name##_(*this); }
GRAFT_UNARY_OPS(GRAFT_FORWARD_UNARY)
#undef GRAFT_FORWARD_UNARY

#define GRAFT_FORWARD_BINARY(name, ...)                                                \
  Tensor Tensor::name(const Tensor& other) const { return graft::name(*this, other); } \
  Tensor Tensor::name(Scalar other) const { return graft::name(*this, other); }        \
  const Tensor& Tensor::name##_(const Tensor& other) const {                           \
    return graft::name##_(*this, other);                                               \
  }                                                                                    \
  const Tensor& Tensor::name##_(Scalar other) const { return graft::name##_(*this, other); }
GRAFT_BINARY_OPS(GRAFT_FORWARD_BINARY)
#undef GRAFT_FORWARD_BINARY

#define GRAFT_FORWARD_COMPARISON(name, ...)                                            \
  Tensor Tensor::name(const Tensor& other) const { return graft::name(*this, other); } \
  Tensor Tensor::name(Scalar other) const { return graft::name(*this, other); }
GRAFT_COMPARISON_OPS(GRAFT_FORWARD_COMPARISON)
#undef GRAFT_FORWARD_COMPARISON

#define GRAFT_FORWARD_REDUCTION(name)                         \
  Tensor Tensor::name() const { return graft::name(*this); }  \
  Tensor Tensor::name(const Dims& dims, bool keepdim) const { \
    return graft::name(*this, dims, keepdim);                 \
  }
GRAFT_DIMS_REDUCTIONS(GRAFT_FORWARD_REDUCTION)
#undef GRAFT_FORWARD_REDUCTION

Tensor Tensor::var() const { return graft::var(*this); }
Tensor Tensor::var(const Dims& dims, int64_t correction, bool keepdim) const {
  return graft::var(*this, dims, correction, keepdim);
}
Tensor Tensor::std() const { return graft::std(*this); }
Tensor Tensor::std(const Dims& dims, int64_t correction, bool keepdim) const {
  return graft::std(*this, dims, correction, keepdim);
}
Tensor Tensor::argmax() const { return graft::argmax(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const {
  return graft::argmax(*this, dim, keepdim);
}
Tensor Tensor::argmin() const { return graft::argmin(*this); }
Tensor Tensor::argmin(int64_t dim, bool keepdim) const {
  return graft::argmin(*this, dim, keepdim);
}

Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return graft::clamp(*this, min, max);
}
const Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return graft::clamp_(*this, min, max);
}
Tensor Tensor::where(const Tensor& condition, const Tensor& other) const {
  return graft::where(condition, *this, other);
}
Tensor Tensor::where(const Tensor& condition, Scalar other) const {
  return graft::where(condition, *this, other);
}
Tensor Tensor::masked_fill(const Tensor& mask, Scalar value) const {
  return graft::masked_fill(*this, mask, value);
}
const Tensor& Tensor::masked_fill_(const Tensor& mask, Scalar value) const {
  return graft::masked_fill_(*this, mask, value);
}

Tensor Tensor::matmul(const Tensor& other) const { return graft::matmul(*this, other); }
Tensor Tensor::mm(const Tensor& other) const { return graft::mm(*this, other); }
Tensor Tensor::bmm(const Tensor& other) const { return graft::bmm(*this, other); }
Tensor Tensor::softmax(int64_t dim) const { return graft::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return graft::log_softmax(*this, dim); }

Tensor Tensor::cumsum(int64_t dim) const { return graft::cumsum(*this, dim); }
Tensor Tensor::cumprod(int64_t dim) const { return graft::cumprod(*this, dim); }
Tensor Tensor::tril(int64_t diagonal) const { return graft::tril(*this, diagonal); }
Tensor Tensor::triu(int64_t diagonal) const { return graft::triu(*this, diagonal); }
Tensor Tensor::norm(double p, const Dims& dims, bool keepdim) const {
  return graft::norm(*this, p, dims, keepdim);
}

Tensor Tensor::gather(int64_t dim, const Tensor& index) const {
  return graft::gather(*this, dim, index);
}
Tensor Tensor::index_select(int64_t dim, const Tensor& index) const {
  return graft::index_select(*this, dim, index);
}
Tensor Tensor::scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const {
  return graft::scatter_add(*this, dim, index, src);
}
const Tensor& Tensor::scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) const {
  return graft::scatter_add_(*this, dim, index, src);
}
Tensor Tensor::nonzero() const { return graft::nonzero(*this); }

std::tuple<Tensor, Tensor> Tensor::sort(int64_t dim, bool descending) const {
  return graft::sort(*this, dim, descending);
}
Tensor Tensor::argsort(int64_t dim, bool descending) const {
  return graft::argsort(*this, dim, descending);
}
std::tuple<Tensor, Tensor> Tensor::topk(int64_t k, int64_t dim, bool largest, bool sorted) const {
  return graft::topk(*this, k, dim, largest, sorted);
}
Tensor Tensor::multinomial(int64_t num_samples, bool replacement) const {
  return graft::multinomial(*this, num_samples, replacement);
}

}  // namespace graft
