// The op layer: every computation on tensors, as free functions.
//
// Each op checks its inputs (a graft::Error names the op, the shapes, dtypes and devices),
// works out the result's shape and dtype once, allocates the output and calls the kernel
// that kernels/dispatch.h holds for the inputs' device. Tensor's math methods forward
// here (t.exp() is exp(t)). The ops_*.cpp files beside this header implement one family
// each; the backward formulas of autograd sit beside the forwards there.
#pragma once

#include <array>
#include <concepts>
#include <functional>
#include <optional>
#include <ostream>
#include <tuple>
#include <vector>

#include "graft/core/tensor.h"

namespace graft {

// ---- factories (ops_factory.cpp)

// tensor({1.5, 2.0}) infers the dtype from the C++ type as libtorch's torch::tensor does
// (float, double -> the default dtype, float32 unless set_default_dtype changed it; int /
// int64_t -> int64; bool -> bool; uint8_t -> uint8; graft::Half -> float16;
// graft::BFloat16 -> bfloat16) unless options give one:
// tensor({1.5, 2.0}, kFloat64), tensor(std::vector<double>{...}, kFloat64).
template <class T>
Tensor tensor(std::initializer_list<T> values, TensorOptions options = {});
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> values, TensorOptions options = {});
template <class T>
Tensor tensor(const std::vector<T>& values, TensorOptions options = {});

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, Scalar value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, Scalar value);
// Values start, start + step, ... below end; int64 when all arguments are integers.
Tensor arange(Scalar end, TensorOptions options = {});
Tensor arange(Scalar start, Scalar end, Scalar step = 1, TensorOptions options = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, TensorOptions options = {});
Tensor eye(int64_t n, int64_t m, TensorOptions options = {});

// ---- random numbers (ops_random.cpp): one Philox stream, the same on every device

void manual_seed(uint64_t seed);
Tensor rand(const Shape& shape, TensorOptions options = {});   // uniform [0, 1)
Tensor randn(const Shape& shape, TensorOptions options = {});  // standard normal
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = {});

// ---- elementwise (ops_elementwise.cpp)

#define GRAFT_DECLARE_UNARY_FN(name, ...) Tensor name(const Tensor& x);
GRAFT_UNARY_OPS(GRAFT_DECLARE_UNARY_FN)
#undef GRAFT_DECLARE_UNARY_FN

#define GRAFT_DECLARE_BINARY_FN(name, ...)       \
  Tensor name(const Tensor& a, const Tensor& b); \
  Tensor name(const Tensor& a, Scalar b);        \
  Tensor name(Scalar a, const Tensor& b);
GRAFT_BINARY_OPS(GRAFT_DECLARE_BINARY_FN)
GRAFT_COMPARISON_OPS(GRAFT_DECLARE_BINARY_FN)
#undef GRAFT_DECLARE_BINARY_FN

// cond ? a : b, broadcasting all three; cond must be bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, Scalar b);
Tensor where(const Tensor& cond, Scalar a, const Tensor& b);
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);

// In-place forms write into `self` and keep its dtype: a result dtype that cannot be cast
// back (float into an int tensor) is an error, and so is writing into a broadcast view.
#define GRAFT_DECLARE_UNARY_INPLACE_FN(name, ...) const Tensor& name##_(const Tensor& self);
GRAFT_UNARY_OPS(GRAFT_DECLARE_UNARY_INPLACE_FN)
#undef GRAFT_DECLARE_UNARY_INPLACE_FN
#define GRAFT_DECLARE_BINARY_INPLACE_FN(name, ...)                \
  const Tensor& name##_(const Tensor& self, const Tensor& other); \
  const Tensor& name##_(const Tensor& self, Scalar other);
GRAFT_BINARY_OPS(GRAFT_DECLARE_BINARY_INPLACE_FN)
#undef GRAFT_DECLARE_BINARY_INPLACE_FN
const Tensor& clamp_(const Tensor& self, std::optional<Scalar> min,
                     std::optional<Scalar> max = std::nullopt);
const Tensor& masked_fill_(const Tensor& self, const Tensor& mask, Scalar value);
const Tensor& scatter_add_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);

// ---- copies (ops_copy.cpp)

// dst[...] = src broadcast to dst's shape, converting dtype and device. Records no gradient,
// so it refuses tensors that require grad while grad mode is on: dst.copy_(src) is the
// differentiable form.
void copy_into(const Tensor& dst, const Tensor& src);

// ---- comparisons of whole tensors (ops_compare.cpp)

// |a - b| <= atol + rtol * |b| elementwise (NaNs unequal), shapes broadcast.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
// Same shape and the same values (dtypes may differ).
bool equal(const Tensor& a, const Tensor& b);

// ---- reductions (ops_reduce.cpp); an empty `dims` reduces every dim

// sum mean prod max min logsumexp all any (core/op_list.h); max and min return the values,
// like torch.amax / torch.amin.
// One dim may be given bare, sum(x, 1) as sum(x, {1}) (see Tensor's methods).
#define GRAFT_DECLARE_DIMS_REDUCTION(name)                                   \
  Tensor name(const Tensor& x, const Dims& dims = {}, bool keepdim = false); \
  template <DimIndex Dim>                                                    \
  Tensor name(const Tensor& x, Dim dim, bool keepdim = false) {              \
    return name(x, Dims{static_cast<int64_t>(dim)}, keepdim);                \
  }
GRAFT_DIMS_REDUCTIONS(GRAFT_DECLARE_DIMS_REDUCTION)
#undef GRAFT_DECLARE_DIMS_REDUCTION
// var/std take libtorch's order, (dims, correction, keepdim); correction = 1 is Bessel's
// (the sample variance), 0 the population variance, as PyTorch.
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
// Note [var/std take no bool]: a bool third argument does not compile. graft's old order
// (dims, keepdim, correction) and libtorch's var(x, dim, unbiased, keepdim) both put a bool
// there; read as a correction it would convert silently (true -> 1, false -> 0) and drop
// keepdim, so var(x, {1}, true) would change meaning instead of failing. Write the
// correction as an integer: var(x, {1}, 1, true). A template deduces the bool exactly, so
// it wins over the conversion to int64_t and the call lands on the deleted overload.
template <std::same_as<bool> BoolIsNotACorrection, class... Rest>
Tensor var(const Tensor& x, const Dims& dims, BoolIsNotACorrection, Rest...) = delete;
template <std::same_as<bool> BoolIsNotACorrection, class... Rest>
Tensor std(const Tensor& x, const Dims& dims, BoolIsNotACorrection, Rest...) = delete;
// Over the flattened tensor when dim is nullopt (then keepdim gives all-ones dims).
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// ---- linear algebra and softmax (ops_matmul.cpp, ops_softmax.cpp)

// torch.matmul's rules: 1-D x 1-D dot, 2-D x 2-D mm, 1-D operands get a dim prepended /
// appended and removed again, batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);   // (n, k) x (k, m) only
Tensor bmm(const Tensor& a, const Tensor& b);  // (b, n, k) x (b, k, m) only
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- normalization (ops_layer_norm.cpp)

// torch.nn.functional.layer_norm: each group of the last normalized_shape.size() dims (which
// must equal normalized_shape) becomes (x - mean) / sqrt(var + eps), var biased, times
// weight plus bias (each normalized_shape, or undefined for none). A fused kernel each way
// (kernels/layer_norm.h).
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// ---- joining and indexing (ops_index.cpp)

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims), as torch.gather.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out = x; out[index[i][j]][j] += src[i][j] for dim 0, as torch.scatter_add.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// The coordinates of x's nonzero elements (true for bool), one row each in row-major
// order: int64 of shape (count, x.dim()), as torch.nonzero. The count is read back from
// the device first (a sync on CUDA, as in PyTorch).
Tensor nonzero(const Tensor& x);

// ---- sorting and sampling (ops_sort.cpp, ops_multinomial.cpp)

// x sorted along dim: the values and their int64 positions along dim. Always stable (equal
// values keep their order, descending too, as torch.sort(stable=True)); NaN sorts as the
// largest value; integer and bool inputs are kept. A 0-d input is its one element, index 0.
std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The k largest (smallest when largest = false) along dim, 0 <= k <= size(dim): values and
// int64 indices. Ties go to the lower index and NaN counts as the largest, as in sort;
// sorted = false returns the same k in order of their index. A 0-d input has one element.
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                                bool sorted = true);
// num_samples int64 category indices drawn from each row of probs, (n) -> (num_samples) or
// (rows, n) -> (rows, num_samples); rows are non-negative, finite weights with a positive sum
// (need not sum to 1). Without replacement a row yields distinct categories, so it needs
// num_samples categories of non-zero weight. Draws from the global Philox stream: the same
// seed gives the same samples on every device.
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false);

// ---- scans, triangles and norms (ops_scan.cpp, ops_triangle.cpp, ops_norm.cpp)

// Running sum / product along `dim` (negative counts from the end), as torch.cumsum /
// torch.cumprod: a 0-d input gives a 0-d result; integer and bool inputs accumulate in and
// return int64, floating ones keep their dtype.
Tensor cumsum(const Tensor& x, int64_t dim);
Tensor cumprod(const Tensor& x, int64_t dim);
// The lower (tril: column - row <= diagonal) or upper (triu: column - row >= diagonal)
// triangle of each matrix in the last two dims, zeros elsewhere; x.dim() >= 2, dtype kept.
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);
// The p-norm over `dims` (every dim when empty): (sum |x|^p)^(1/p); p = inf is max |x|,
// p = -inf min |x|, p = 0 the number of non-zeros. Floating inputs only, as in PyTorch.
Tensor norm(const Tensor& x, double p = 2, const Dims& dims = {}, bool keepdim = false);

// ---- convolution and pooling (ops_conv.cpp, ops_pool.cpp)
//
// Images are NCHW, batched (N, C, H, W) or unbatched (C, H, W), float32 or float64. Each
// backward returns the gradients of its forward's inputs from the output's gradient, for
// autograd to call (and for anyone checking a gradient by hand).

// A (height, width) pair of sizes; one int gives both, as in PyTorch: stride = 2 or {2, 1}.
struct IntPair {
  int64_t h = 0, w = 0;
  IntPair(int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor)
  IntPair(int64_t height, int64_t width) : h(height), w(width) {}
};
std::ostream& operator<<(std::ostream& out, IntPair pair);  // "(h, w)"

// out[n, o] = bias[o] + sum over the group's input channels c and taps (i, j) of
//   weight[o, c, i, j] * x[n, c, oh * stride.h - padding.h + i * dilation.h, ...];
// weight (out_channels, C / groups, kh, kw); bias (out_channels), or undefined for none.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, IntPair stride = 1,
              IntPair padding = 0, IntPair dilation = 1, int64_t groups = 1);
// {grad_x, grad_weight, grad_bias} of conv2d; output_mask says which to compute (the others
// come back undefined). grad_bias is grad_out summed over all dims but the channel.
std::tuple<Tensor, Tensor, Tensor> conv2d_backward(
    const Tensor& grad_out, const Tensor& x, const Tensor& weight, IntPair stride, IntPair padding,
    IntPair dilation, int64_t groups, std::array<bool, 3> output_mask = {true, true, true});

// Max over each window (stride defaults to the kernel). Also returns, for each output, the
// input element it came from as h * W + w within its (H, W) plane (int64), as PyTorch does.
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, IntPair kernel,
                                                   std::optional<IntPair> stride = std::nullopt,
                                                   IntPair padding = 0, IntPair dilation = 1,
                                                   bool ceil_mode = false);
Tensor max_pool2d(const Tensor& x, IntPair kernel, std::optional<IntPair> stride = std::nullopt,
                  IntPair padding = 0, IntPair dilation = 1, bool ceil_mode = false);
// grad_x of x_shape: each grad_out element added to the input element its index names. The
// pool's arguments are the forward's: they give grad_out's shape, and the CUDA kernel finds
// each input's gradients through the windows that hold it.
Tensor max_pool2d_backward(const Tensor& grad_out, const Shape& x_shape, const Tensor& indices,
                           IntPair kernel, std::optional<IntPair> stride = std::nullopt,
                           IntPair padding = 0, IntPair dilation = 1, bool ceil_mode = false);

// Mean over each window; count_include_pad = false leaves the zero padding out of the count.
Tensor avg_pool2d(const Tensor& x, IntPair kernel, std::optional<IntPair> stride = std::nullopt,
                  IntPair padding = 0, bool ceil_mode = false, bool count_include_pad = true);
Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& x_shape, IntPair kernel,
                           std::optional<IntPair> stride = std::nullopt, IntPair padding = 0,
                           bool ceil_mode = false, bool count_include_pad = true);
// Mean over output_size windows that split H and W as evenly as they can (PyTorch's).
Tensor adaptive_avg_pool2d(const Tensor& x, IntPair output_size);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_out, const Shape& x_shape);

// ---- operators

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
inline Tensor operator+(Scalar a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
inline Tensor operator-(Scalar a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
inline Tensor operator*(Scalar a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
inline Tensor operator/(Scalar a, const Tensor& b) { return div(a, b); }
inline Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
inline Tensor operator==(const Tensor& a, Scalar b) { return eq(a, b); }
inline Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
inline Tensor operator!=(const Tensor& a, Scalar b) { return ne(a, b); }
inline Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
inline Tensor operator<(const Tensor& a, Scalar b) { return lt(a, b); }
inline Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
inline Tensor operator<=(const Tensor& a, Scalar b) { return le(a, b); }
inline Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
inline Tensor operator>(const Tensor& a, Scalar b) { return gt(a, b); }
inline Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
inline Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, b); }
inline Tensor operator==(Scalar a, const Tensor& b) { return eq(a, b); }
inline Tensor operator!=(Scalar a, const Tensor& b) { return ne(a, b); }
inline Tensor operator<(Scalar a, const Tensor& b) { return lt(a, b); }
inline Tensor operator<=(Scalar a, const Tensor& b) { return le(a, b); }
inline Tensor operator>(Scalar a, const Tensor& b) { return gt(a, b); }
inline Tensor operator>=(Scalar a, const Tensor& b) { return ge(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace graft
