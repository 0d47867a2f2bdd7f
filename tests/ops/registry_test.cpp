// The generic op tests: each walks the registry (op_info.h), so every row gets every check
// and an op without a row fails OpRegistryCoverage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <set>

#include "cuda/cuda_test_util.h"
#include "op_info.h"

namespace g = graft;
using g::autograd::TensorList;
using g::testing::Integers;
using g::testing::Layout;
using g::testing::OpInfo;
using g::testing::RefTensor;

namespace {

std::vector<OpInfo> rows_where(const std::function<bool(const OpInfo&)>& keep) {
  std::vector<OpInfo> out;
  for (const OpInfo& row : g::testing::op_registry())
    if (keep(row)) out.push_back(row);
  return out;
}

TensorList sample(const OpInfo& row, Layout layout, g::DType dtype, bool requires_grad) {
  TensorList inputs;
  for (size_t k = 0; k < row.inputs.size(); ++k)
    inputs.push_back(g::testing::make_sample_input(row, k, layout, dtype, requires_grad));
  return inputs;
}

// Every value within `tol` of the reference (NaN where it is NaN).
void expect_close(const g::Tensor& got, const RefTensor& want, g::testing::Tolerance tol,
                  const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape) << what;
  const std::vector<double> values = got.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    const double w = want.values[i];
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(values[i])) << what << " at " << i;
    } else if (std::isinf(w)) {
      EXPECT_EQ(values[i], w) << what << " at " << i;
    } else {
      EXPECT_LE(std::abs(values[i] - w), tol.atol + tol.rtol * std::abs(w))
          << what << " at " << i << ": got " << values[i] << ", want " << w;
    }
  }
}

std::string describe(const OpInfo& row, g::DType dtype, Layout layout) {
  return row.name + " on " + g::dtype_name(dtype) + ", " + g::testing::layout_name(layout);
}

// ---- forward: every dtype and layout against the double-precision reference

class OpForward : public ::testing::TestWithParam<OpInfo> {};

TEST_P(OpForward, MatchesTheReferenceOnEveryDtypeAndLayout) {
  const OpInfo& row = GetParam();
  std::vector<g::DType> dtypes = row.dtypes;
  dtypes.insert(dtypes.end(), {g::kInt32, g::kInt64});
  for (g::DType dtype : dtypes) {
    const bool integer = !g::is_floating_point(dtype);
    for (Layout layout : row.layouts) {
      SCOPED_TRACE(describe(row, dtype, layout));
      const TensorList inputs = sample(row, layout, dtype, false);
      if (integer && row.integers == Integers::refuse) {
        EXPECT_THROW(row.call(inputs), g::Error);
        continue;
      }
      std::vector<RefTensor> refs;
      for (const g::Tensor& t : inputs) refs.push_back(g::testing::to_ref(t));
      const std::vector<RefTensor> want = row.reference(refs);
      const TensorList got = row.call(inputs);
      ASSERT_EQ(got.size(), want.size());
      g::DType compute = integer && row.integers == Integers::promote ? g::kFloat32 : dtype;
      const g::DType result = row.result_dtype ? row.result_dtype(compute) : compute;
      EXPECT_EQ(got[0].dtype(), result);
      // Integer and bool results are exact; floating ones within the compute dtype's bounds.
      const g::testing::Tolerance tol = g::is_floating_point(got[0].dtype())
                                            ? row.tolerance(compute)
                                            : g::testing::Tolerance{0, 0};
      for (size_t i = 0; i < got.size(); ++i)
        expect_close(got[i], want[i], tol, "output " + std::to_string(i));
      if (row.in_place && !inputs[0].requires_grad() && got[0].strides() == inputs[0].strides()) {
        EXPECT_EQ(got[0].data_ptr(), inputs[0].data_ptr()) << "an in-place form wrote elsewhere";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, OpForward, ::testing::ValuesIn(g::testing::op_registry()),
                         [](const auto& info) { return info.param.name; });

// ---- gradients: first and second order against finite differences, in float64

struct GradCase {
  OpInfo row;
  Layout layout;
};
void PrintTo(const GradCase& c, std::ostream* out) {
  *out << c.row.name << "_" << g::testing::layout_name(c.layout);
}

std::vector<GradCase> grad_cases() {
  std::vector<GradCase> cases;
  for (const OpInfo& row : g::testing::op_registry())
    if (row.differentiable)
      for (Layout layout : row.layouts) cases.push_back({row, layout});
  return cases;
}

class OpGradient : public ::testing::TestWithParam<GradCase> {};

TEST_P(OpGradient, MatchesFiniteDifferencesToSecondOrder) {
  const auto& [row, layout] = GetParam();
  const TensorList inputs = sample(row, layout, g::kFloat64, true);
  // Only floating outputs have gradients (max_pool2d_with_indices also returns indices).
  const auto fn = [&row](const TensorList& in) {
    TensorList floating;
    for (const g::Tensor& t : row.call(in))
      if (g::is_floating_point(t.dtype())) floating.push_back(t);
    return floating;
  };
  EXPECT_TRUE(g::autograd::gradcheck(fn, inputs));
  const auto& skip = row.no_second_order;
  if (row.double_backward && std::find(skip.begin(), skip.end(), layout) == skip.end()) {
    EXPECT_TRUE(g::autograd::gradgradcheck(fn, inputs));
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, OpGradient, ::testing::ValuesIn(grad_cases()),
                         [](const auto& info) {
                           return info.param.row.name + "_" +
                                  g::testing::layout_name(info.param.layout);
                         });

// ---- CUDA against the CPU, every dtype and layout (skipped without a GPU)

class OpCudaParity : public ::testing::TestWithParam<OpInfo> {};

TEST_P(OpCudaParity, MatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const OpInfo& row = GetParam();
  std::vector<g::DType> dtypes = row.dtypes;
  if (row.integers != Integers::refuse) dtypes.insert(dtypes.end(), {g::kInt32, g::kInt64});
  for (g::DType dtype : dtypes) {
    for (Layout layout : row.layouts) {
      SCOPED_TRACE(describe(row, dtype, layout));
      const TensorList on_cpu = sample(row, layout, dtype, false);
      TensorList on_cuda;
      for (const g::Tensor& t : on_cpu) on_cuda.push_back(t.cuda());
      const TensorList want = row.call(on_cpu);
      const TensorList got = row.call(on_cuda);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(got[i].is_cuda());
        EXPECT_EQ(got[i].dtype(), want[i].dtype());
        const g::testing::Tolerance tol = g::is_floating_point(want[i].dtype())
                                              ? row.tolerance(want[i].dtype())
                                              : g::testing::Tolerance{0, 0};
        expect_close(got[i], g::testing::to_ref(want[i]), tol, "output " + std::to_string(i));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, OpCudaParity, ::testing::ValuesIn(g::testing::op_registry()),
                         [](const auto& info) { return info.param.name; });

// ---- CUDA gradients against the CPU's, every floating dtype and layout (skipped without a
// GPU). The forward parity above never runs a backward kernel.

// The gradients of sum_i <w_i, output_i> with respect to every input that requires grad,
// each w_i fixed and no two of its elements alike, so that a gradient sent to the wrong
// element shows; an input the outputs do not reach gives an undefined tensor.
TensorList weighted_gradients(const OpInfo& row, const TensorList& inputs) {
  TensorList outputs, weights, wrt;
  for (const g::Tensor& t : row.call(inputs))
    if (g::is_floating_point(t.dtype()) && t.requires_grad()) outputs.push_back(t);
  for (const g::Tensor& t : inputs)
    if (t.requires_grad()) wrt.push_back(t);
  if (outputs.empty() || wrt.empty()) return {};
  for (const g::Tensor& o : outputs) {
    const g::Tensor w = g::cos(g::arange(o.numel(), g::TensorOptions(g::kFloat64)) * 0.7 + 0.3);
    weights.push_back(w.view(o.shape()).to(o.dtype()).to(o.device()));
  }
  return g::autograd::grad(outputs, wrt, {.grad_outputs = weights, .allow_unused = true});
}

class OpCudaGradientParity : public ::testing::TestWithParam<OpInfo> {};

TEST_P(OpCudaGradientParity, MatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  const OpInfo& row = GetParam();
  for (g::DType dtype : row.dtypes) {
    for (Layout layout : row.layouts) {
      SCOPED_TRACE(describe(row, dtype, layout));
      const TensorList on_cpu = sample(row, layout, dtype, true);
      TensorList on_cuda;
      for (const g::Tensor& t : on_cpu)
        on_cuda.push_back(t.requires_grad() ? g::testing::leaf_on(t, g::Device::cuda()) : t.cuda());
      const TensorList want = weighted_gradients(row, on_cpu);
      const TensorList got = weighted_gradients(row, on_cuda);
      ASSERT_EQ(got.size(), want.size());
      // A gradient sums over the outputs each input reaches, in another order on each
      // device: four times the forward's tolerance.
      g::testing::Tolerance tol = row.tolerance(dtype);
      tol.atol *= 4;
      tol.rtol *= 4;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].defined(), want[i].defined()) << "gradient " << i;
        if (!want[i].defined()) continue;
        EXPECT_TRUE(got[i].is_cuda());
        EXPECT_EQ(got[i].dtype(), want[i].dtype());
        expect_close(got[i], g::testing::to_ref(want[i]), tol, "gradient " + std::to_string(i));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, OpCudaGradientParity,
                         ::testing::ValuesIn(rows_where([](const OpInfo& row) {
                           return row.differentiable;
                         })),
                         [](const auto& info) { return info.param.name; });

// ---- an input on another device is an error that names both devices

// Input 1 on CUDA. Without a GPU it is CPU memory labelled cuda:0 (from_blob): the check
// must come before any kernel runs, so nothing ever reads through the label.
g::Tensor on_other_device(const g::Tensor& t) {
  if (g::cuda::is_available()) return t.cuda();
  return g::from_blob(t.data_ptr(), t.shape(), t.strides(),
                      g::TensorOptions(t.dtype()).device(g::Device::cuda()));
}

class OpMixedDevices : public ::testing::TestWithParam<OpInfo> {};

TEST_P(OpMixedDevices, IsAnErrorNamingBothDevices) {
  const OpInfo& row = GetParam();
  TensorList inputs = sample(row, Layout::contiguous, g::kFloat32, false);
  inputs[1] = on_other_device(inputs[1]);
  try {
    row.call(inputs);
    ADD_FAILURE() << row.name << " accepted inputs on cpu and cuda:0";
  } catch (const g::Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("cpu"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("cuda:0"));
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, OpMixedDevices,
                         ::testing::ValuesIn(rows_where([](const OpInfo& row) {
                           return row.inputs.size() >= 2;
                         })),
                         [](const auto& info) { return info.param.name; });

// ---- coverage: no op ships without a row

bool has_row(const std::string& op, bool in_place) {
  for (const OpInfo& row : g::testing::op_registry())
    if (row.op == op && row.in_place == in_place) return true;
  return false;
}

TEST(OpRegistryCoverage, EveryOpOfTheListsHasRowsForEachForm) {
#define GRAFT_EXPECT_ROWS(name, ...)                         \
  EXPECT_TRUE(has_row(#name, false)) << #name " has no row"; \
  EXPECT_TRUE(has_row(#name, true)) << #name "_ has no row";
  GRAFT_UNARY_OPS(GRAFT_EXPECT_ROWS)
  GRAFT_BINARY_OPS(GRAFT_EXPECT_ROWS)
#undef GRAFT_EXPECT_ROWS
#define GRAFT_EXPECT_ROW(name, ...) EXPECT_TRUE(has_row(#name, false)) << #name " has no row";
  GRAFT_COMPARISON_OPS(GRAFT_EXPECT_ROW)
  GRAFT_DIMS_REDUCTIONS(GRAFT_EXPECT_ROW)
#undef GRAFT_EXPECT_ROW
}

// The free functions autograd/ops.h declares outside the op lists, read from the header
// itself so that a new declaration is seen without anyone updating a list: a line that
// starts (at namespace scope, column 0) with a return type and then `name(`. Plain string
// scanning, not <regex>: GCC 12 warns falsely inside <regex> at -O1 (the sanitizer build).
std::set<std::string> declared_functions() {
  std::ifstream file(GRAFT_SOURCE_DIR "/autograd/ops.h");
  EXPECT_TRUE(file.good()) << "cannot read autograd/ops.h";
  std::set<std::string> names;
  std::string line;
  while (std::getline(file, line)) {
    std::string s = line.substr(0, line.find("//"));
    for (const std::string prefix : {"inline ", "const "})
      if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
    size_t start = std::string::npos;
    if (s.rfind("std::tuple<", 0) == 0) {
      start = s.find('>') + 1;
    } else {
      for (const std::string type : {"Tensor", "bool", "void", "std::vector<Tensor>"})
        if (s.rfind(type, 0) == 0 && s.size() > type.size() &&
            (s[type.size()] == ' ' || s[type.size()] == '&'))
          start = type.size();
    }
    if (start == std::string::npos) continue;
    while (start < s.size() && (s[start] == ' ' || s[start] == '&')) ++start;
    size_t end = start;
    while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_'))
      ++end;
    if (end > start && end < s.size() && s[end] == '(') names.insert(s.substr(start, end - start));
  }
  return names;
}

// What ops.h declares that is not an op on tensors, and where it is tested instead.
const std::set<std::string> kNotOps = {
    // factories and random numbers: tests/core/factory_test.cpp, tests/core/random_test.cpp
    "tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "linspace",
    "eye", "manual_seed", "rand", "randn", "randint",
    // predicates returning bool: tests/core/compare_test.cpp
    "allclose", "equal",
    // backward helpers: each is what its forward's gradient runs, checked by that row's
    // gradcheck (OpGradient) and against naive loops in tests/kernels/{conv,pool}_test.cpp
    "conv2d_backward", "max_pool2d_backward", "avg_pool2d_backward",
    "adaptive_avg_pool2d_backward"};

TEST(OpRegistryCoverage, EveryFreeFunctionOfOpsHasARow) {
  const std::set<std::string> names = declared_functions();
  EXPECT_GT(names.size(), 20u) << "the declaration pattern no longer matches autograd/ops.h";
  for (const std::string& name : names) {
    if (kNotOps.count(name) > 0) continue;
    const bool in_place = name.back() == '_';
    const std::string op = in_place ? name.substr(0, name.size() - 1) : name;
    EXPECT_TRUE(has_row(op, in_place)) << name << "() in autograd/ops.h has no registry row";
  }
  for (const std::string& name : kNotOps)
    EXPECT_TRUE(names.count(name) > 0) << name << " is no longer in autograd/ops.h";
}

}  // namespace
