// The op registry: one row (an OpInfo) per public op form, and the generic tests in
// registry_test.cpp walk it. In the spirit of PyTorch's OpInfo database, written for graft.
//
// A row says how to call the op, what inputs to give it (shapes, the domain their values
// come from, and which memory layouts make sense), a double-precision reference computed
// with naive loops, the dtypes it supports and what it does with integer inputs, whether
// it is differentiable, and how close each dtype must come to the reference. From that
// the tests derive, for every row:
//   Forward         every dtype x every layout against the reference (dtype, shape, values)
//   Gradients       gradcheck and gradgradcheck in float64, once per layout
//   CudaParity      the same call on CUDA against the CPU (skipped without a GPU)
//   MixedDevices    an input on another device is a graft::Error naming both devices
//   Coverage        every op of core/op_list.h and every free function of autograd/ops.h
//                   has a row (or is named in registry_test.cpp's short list of non-ops)
// The rows live in *_rows.cpp beside this header, one file per op family.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "graft/graft.h"

namespace graft::testing {

using autograd::TensorList;

// How an input's elements lie in memory; every input of a sample gets the same layout.
//   contiguous  row-major
//   transposed  the transpose of a contiguous tensor (last two dims swapped in memory); a
//               1-D input comes out sliced
//   sliced      every other element of a tensor twice as long in its last dim
//   broadcast   a stride-0 expand along dim 0 (or the row's own broadcast shapes)
//   zero_dim    0-d inputs
//   empty       dim 0 of size 0 (or the row's own empty shapes)
enum class Layout { contiguous, transposed, sliced, broadcast, zero_dim, empty };
inline constexpr Layout kAllLayouts[] = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                         Layout::broadcast,  Layout::zero_dim,   Layout::empty};
std::string layout_name(Layout layout);

// The interval an input's values are drawn from: away from an op's kinks and poles.
struct Range {
  double lo, hi;
};
inline constexpr Range kAny{-2, 2};
inline constexpr Range kPositive{0.5, 2};  // log, sqrt, divisors, pow bases

// A tensor as the references see it: its shape and its logical values, row-major.
struct RefTensor {
  Shape shape;
  std::vector<double> values;
  double at(const Shape& index) const;  // index into `shape`, row-major
};
using Reference = std::function<std::vector<RefTensor>(const std::vector<RefTensor>&)>;

// What an op does with integer inputs, as PyTorch does: compute in the default float dtype
// (exp), keep the integer dtype (abs, sum), or refuse with a graft::Error (softmax).
enum class Integers { promote, keep, refuse };

struct Tolerance {
  double atol, rtol;  // |got - want| <= atol + rtol * |want|
};

// One input of a row. Floating inputs are made from `shape` in the sample's layout; an
// input with `make` (an index tensor, a mask) is made by it and never differentiated.
struct InputSpec {
  InputSpec(Shape shape = {}, Range range = kAny,  // NOLINT(google-explicit-constructor)
            std::optional<Shape> broadcast_shape = std::nullopt,
            std::optional<Shape> empty_shape = std::nullopt)
      : shape(std::move(shape)),
        range(range),
        broadcast_shape(std::move(broadcast_shape)),
        empty_shape(std::move(empty_shape)) {}
  Shape shape;
  Range range;
  std::optional<Shape> broadcast_shape;  // for the broadcast layout: this shape, contiguous
  std::optional<Shape> empty_shape;      // for the empty layout; else dim 0 becomes 0
  std::function<Tensor(Layout)> make;
};

struct OpInfo {
  std::string name;  // the test's name: the op and its form, e.g. "sum_dims_keepdim"
  std::string op;    // the public function this row calls, as spelled in autograd/ops.h
  std::vector<InputSpec> inputs;
  std::function<TensorList(const TensorList&)> call;
  Reference reference;
  std::vector<Layout> layouts = {std::begin(kAllLayouts), std::end(kAllLayouts)};
  // Floating dtypes the op supports; integers (int32, int64) follow `integers`.
  std::vector<DType> dtypes = {kFloat32, kFloat64, kFloat16, kBFloat16};
  Integers integers = Integers::keep;
  // The result dtype of the first output for an input dtype (after `integers`); none
  // means that dtype itself (bool for comparisons, int64 for argmax say otherwise).
  std::function<DType(DType)> result_dtype;
  bool in_place = false;  // writes its result into input 0 (covers `<op>_`)
  bool differentiable = true;
  // False when the op's backward is not itself differentiable (conv2d and the pools: their
  // backwards are kernels, and create_graph through them is a graft::Error saying so).
  bool double_backward = true;
  // Layouts where the gradient's own derivative is not checked (ties at a kink, where
  // central differences see the average of two one-sided slopes).
  std::vector<Layout> no_second_order;
  Tolerance float32{1e-5, 1e-5};
  Tolerance float64{1e-12, 1e-10};
  // The 16-bit types round each op's result once (half an ulp: 2^-11 and 2^-8 relative),
  // and a composite op (a backward formula, a norm) rounds at every step.
  Tolerance float16{2e-3, 2e-3};
  Tolerance bfloat16{1.6e-2, 1.6e-2};

  const Tolerance& tolerance(DType dtype) const {
    switch (dtype) {
      case kFloat64:
        return float64;
      case kFloat16:
        return float16;
      case kBFloat16:
        return bfloat16;
      default:
        return float32;
    }
  }
};

// gtest prints a row by its name.
inline void PrintTo(const OpInfo& row, std::ostream* out) { *out << row.name; }

// The registry: every family's rows, in a stable order (explicit calls, so no row is lost
// the way a static initialiser in an unreferenced object would be).
const std::vector<OpInfo>& op_registry();
std::vector<OpInfo> elementwise_rows();
std::vector<OpInfo> reduction_rows();
std::vector<OpInfo> linalg_rows();
std::vector<OpInfo> index_rows();
std::vector<OpInfo> advanced_index_rows();
std::vector<OpInfo> conv_pool_rows();
std::vector<OpInfo> sort_rows();
std::vector<OpInfo> scan_rows();           // scans, triangles, norms
std::vector<OpInfo> normalization_rows();  // layer_norm
std::vector<OpInfo> attention_rows();      // nn::functional::scaled_dot_product_attention
std::vector<OpInfo> loss_rows();           // nn::functional's losses
std::vector<OpInfo> layer_rows();          // linear, embedding, batch_norm, one_hot

// ---- building blocks for rows

// A CPU tensor of logical shape `shape` laid out as `layout` (zero_dim: 0-d; empty: dim 0
// of size 0), values drawn from `range` (`seed` picks which; rounded to integers for an
// integer dtype).
Tensor make_input(const Shape& shape, Layout layout, Range range, uint32_t seed, DType dtype);
// Input `k` of `row` for a sample in `layout` and `dtype`; floating inputs require grad
// when asked (inputs with `make` never do).
Tensor make_sample_input(const OpInfo& row, size_t k, Layout layout, DType dtype,
                         bool requires_grad);
// Inputs made as they are, never differentiated (indices, loss weights, running statistics):
// integer indices of `shape` drawn from [0, count) in the sample's layout; or float64 `values`
// of `shape` whatever the layout, which the row's call converts with `like`.
InputSpec random_indices(Shape shape, int64_t count, uint32_t seed);
InputSpec fixed_values(std::vector<double> values, Shape shape);
// t in x's dtype, on x's device.
Tensor like(const Tensor& t, const Tensor& x);
// The tensor as a RefTensor (any device, dtype, layout).
RefTensor to_ref(const Tensor& t);

// Where an in-place form writes: the input itself when it may be written (a forward test's
// strided view), else a copy (a leaf that requires grad, or a stride-0 broadcast view).
Tensor writable(const Tensor& t);
// A call of one output.
std::function<TensorList(const TensorList&)> single(std::function<Tensor(const TensorList&)> fn);
// A row of one output, its reference given for that output alone.
OpInfo row_of(std::string name, std::string op, std::vector<InputSpec> inputs,
              std::function<Tensor(const TensorList&)> call,
              std::function<RefTensor(const std::vector<RefTensor>&)> reference,
              std::vector<Layout> layouts);
// The element of `t` that position `index` of a shape `t` broadcasts to reads (dims aligned
// at the right, a size 1 stretched).
double broadcast_at(const RefTensor& t, const Shape& index);
// References for elementwise ops, broadcasting their inputs in naive loops.
Reference pointwise(std::function<double(double)> fn);
Reference pointwise(std::function<double(double, double)> fn);
Reference pointwise(std::function<double(double, double, double)> fn);
// The reference of a reduction over `dims` (all when empty): `fold` maps the values of one
// reduced group to its result. A 0-d input is one group whatever dims say (0 and -1 only).
Reference reduction(Dims dims, bool keepdim,
                    std::function<double(const std::vector<double>&)> fold);
// The reference of an op that maps each lane along `dim` (every other index fixed) to a
// lane of the same length (softmax, scans).
Reference along_dim(int64_t dim, std::function<std::vector<double>(const std::vector<double>&)> fn);

// Row-major strides and index <-> offset arithmetic for the references.
Shape row_major_strides(const Shape& shape);
Shape unravel(int64_t offset, const Shape& shape);

}  // namespace graft::testing
