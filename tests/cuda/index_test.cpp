// CUDA indexing (kernels/cuda/index.cu) and joining against their CPU twins
// (kernels/cpu/index.cpp, checked against naive loops in tests/kernels/index_test.cpp).
//
// gather and index_select must give the CPU's values exactly, for every dtype, along every
// dim, with self and index contiguous, transposed, sliced with steps or expanded, for sizes
// 1, 7, 33 and 1000003 and a (513, 257) matrix; their outputs land in memory left full of
// 0xFF bytes. scatter_add adds with atomics by default, so float sums may differ from the
// CPU's in the last bits; under graft::use_deterministic_algorithms(true) it adds in the CPU's
// order and must give its bits, the same on every run. A bad index value is found on the
// device and reported with the CPU's message, and a failed scatter_add_ writes nothing.
// cat and stack have no kernel of their own (they copy into slices) and are checked here on
// device tensors, dtypes mixed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "settings_scope.h"
#include "test_util.h"

namespace g = graft;
using g::Shape;
using g::Slice;
using g::Tensor;
using g::testing::error_message;
using g::testing::expect_matches_cpu;
using g::testing::make_tensor;
using g::testing::poison_cuda_cache;
using ::testing::HasSubstr;

namespace {

const g::Device kCuda = g::Device::cuda();
constexpr g::DType kAllDTypes[] = {g::kBool,  g::kUInt8,   g::kInt32,
                                   g::kInt64, g::kFloat32, g::kFloat64};

// Random CPU values of `dtype`, never all zeros.
Tensor sample(const Shape& shape, g::DType dtype) {
  switch (dtype) {
    case g::kBool:
      return g::rand(shape) > 0.5;
    case g::kUInt8:
      return g::randint(0, 256, shape, dtype);
    case g::kInt32:
    case g::kInt64:
      return g::randint(-1000, 1000, shape, dtype);
    default:
      return g::randn(shape, dtype);
  }
}

// Random index values in [0, bound).
Tensor indices(const Shape& shape, int64_t bound, g::DType dtype = g::kInt64) {
  return g::randint(0, bound, shape, dtype);
}

// The layouts a kernel must read: a view of a bigger tensor built for it.
struct Layout {
  const char* name;
  std::function<Tensor(const Shape&, const std::function<Tensor(const Shape&)>&)> make;
};
const Layout kLayouts[] = {
    {"contiguous", [](const Shape& s, const auto& fill) { return fill(s); }},
    {"transposed",  // the last two dims swapped in memory
     [](const Shape& s, const auto& fill) {
       if (s.size() < 2) return fill(s);
       Shape swapped = s;
       std::swap(swapped[s.size() - 1], swapped[s.size() - 2]);
       return fill(swapped).transpose(-1, -2);
     }},
    {"stepped",
     [](const Shape& s, const auto& fill) {
       Shape bigger = s;
       std::vector<g::TensorIndex> every_other;
       for (int64_t d = 0; d < s.size(); ++d) {
         bigger[d] = 2 * s[d] + 1;
         every_other.push_back(Slice(1, g::None, 2));
       }
       return fill(bigger).index(every_other);
     }},
    {"expanded",
     [](const Shape& s, const auto& fill) {
       Shape one = s;
       one[0] = 1;
       return fill(one).expand(s);
     }},
};

// The same tensor on the CPU and on the GPU.
struct Pair {
  Tensor cpu, cuda;
};
// Builds the CPU tensor with make(shape, fill), and the GPU one as the same view of a copy.
Pair pair(const Layout& layout, const Shape& shape,
          const std::function<Tensor(const Shape&)>& fill) {
  Tensor base_cpu, base_cuda;
  const auto record = [&](const Shape& s) {
    base_cpu = fill(s);
    base_cuda = base_cpu.to(kCuda);
    return base_cpu;
  };
  const Tensor cpu = layout.make(shape, record);
  // Replay the view on the GPU copy: the same strides and offset over base_cuda's storage.
  const auto replay = [&](const Shape&) { return base_cuda; };
  return {cpu, layout.make(shape, replay)};
}

// Floating sums added by atomics differ from the CPU's in the last bits.
void expect_close(const Tensor& got, const Tensor& want, double atol) {
  const bool f32 = want.dtype() == g::kFloat32, f64 = want.dtype() == g::kFloat64;
  expect_matches_cpu(got, want, f32 ? 1e-5 : (f64 ? 1e-12 : 0), f32 || f64 ? atol : 0);
}

// ---- gather

// gather(self, dim, index) with an index smaller than self off `dim`, in every layout pair.
void expect_gather_matches(const Shape& self_shape, const Shape& index_shape, int64_t dim,
                           g::DType dtype) {
  const int64_t bound = self_shape.empty() ? 1 : self_shape[dim];
  for (const Layout& self_layout : kLayouts) {
    for (const Layout& index_layout : kLayouts) {
      SCOPED_TRACE(std::string("gather of ") + g::dtype_name(dtype) + " self " + self_layout.name +
                   " index " + index_layout.name + " along " + std::to_string(dim));
      const Pair self =
          pair(self_layout, self_shape, [&](const Shape& s) { return sample(s, dtype); });
      const Pair index =
          pair(index_layout, index_shape, [&](const Shape& s) { return indices(s, bound); });
      const Tensor want = g::gather(self.cpu, dim, index.cpu);
      poison_cuda_cache(want.nbytes());
      expect_matches_cpu(g::gather(self.cuda, dim, index.cuda), want);
    }
  }
}

TEST(CudaGather, EveryDtypeLayoutAndDim) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  for (g::DType dtype : kAllDTypes) {
    for (int64_t n : {1, 7, 33}) expect_gather_matches({n}, {n}, 0, dtype);
    for (int64_t dim : {0, 1}) {
      expect_gather_matches({513, 257}, {513, 257}, dim, dtype);
      expect_gather_matches({513, 257}, {100, 33}, dim, dtype);  // index smaller than self
    }
    expect_gather_matches({5, 7, 9}, {5, 11, 3}, 1, dtype);  // longer than self along dim
  }
}

TEST(CudaGather, MillionElements) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(2);
  for (g::DType dtype : {g::kUInt8, g::kInt32, g::kFloat64}) {
    const Tensor self = sample({1000003}, dtype), index = indices({1000003}, 1000003);
    const Tensor want = g::gather(self, 0, index);
    poison_cuda_cache(want.nbytes());
    expect_matches_cpu(g::gather(self.to(kCuda), 0, index.to(kCuda)), want);
  }
}

// ---- index_select

void expect_index_select_matches(const Shape& shape, int64_t dim, int64_t count, g::DType dtype,
                                 g::DType index_dtype) {
  const int64_t bound = shape.empty() ? 1 : shape[dim];
  for (const Layout& layout : kLayouts) {
    SCOPED_TRACE(std::string("index_select of ") + g::dtype_name(dtype) + " " + layout.name +
                 " along " + std::to_string(dim) + " with " + g::dtype_name(index_dtype));
    const Pair self = pair(layout, shape, [&](const Shape& s) { return sample(s, dtype); });
    // A stepped index: every other value of a longer one.
    const Tensor index =
        indices({2 * count}, bound, index_dtype).index({Slice(g::None, g::None, 2)});
    const Tensor want = g::index_select(self.cpu, dim, index);
    poison_cuda_cache(want.nbytes());
    expect_matches_cpu(g::index_select(self.cuda, dim, index.to(kCuda)), want);
  }
}

TEST(CudaIndexSelect, EveryDtypeLayoutDimAndIndexDtype) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(3);
  for (g::DType dtype : kAllDTypes) {
    for (g::DType index_dtype : {g::kInt32, g::kInt64}) {
      for (int64_t n : {1, 7, 33}) expect_index_select_matches({n}, 0, n, dtype, index_dtype);
      for (int64_t dim : {0, 1})
        expect_index_select_matches({513, 257}, dim, 300, dtype, index_dtype);
      expect_index_select_matches({1000003}, 0, 1000003, dtype, index_dtype);
    }
  }
}

// ---- scatter_add

struct ScatterCase {
  Shape self, index;  // src has index's shape
  int64_t dim;
};
const ScatterCase kScatterCases[] = {
    {{1}, {1}, 0},
    {{7}, {33}, 0},
    {{33}, {7}, 0},
    {{513, 257}, {513, 257}, 0},
    {{513, 257}, {513, 257}, 1},
    {{513, 257}, {1000, 100}, 0},
    {{5, 7, 9}, {5, 20, 3}, 1},
    {{100, 1001}, {1000, 1001}, 0},  // a million sources, ten per element
};

// scatter_add of src into a copy of self on both devices, index and src in `layout`.
Pair scatter_both(const ScatterCase& c, g::DType dtype, const Layout& layout) {
  const Tensor self = sample(c.self, dtype);
  const Pair index =
      pair(layout, c.index, [&](const Shape& s) { return indices(s, c.self[c.dim]); });
  const Pair src = pair(layout, c.index, [&](const Shape& s) { return sample(s, dtype); });
  return {g::scatter_add(self, c.dim, index.cpu, src.cpu),
          g::scatter_add(self.to(kCuda), c.dim, index.cuda, src.cuda)};
}

TEST(CudaScatterAdd, AtomicAddsMatchTheCpuUpToRounding) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(4);
  const g::testing::SettingsScope atomic(false);
  for (const ScatterCase& c : kScatterCases) {
    for (g::DType dtype : kAllDTypes) {
      for (const Layout& layout : kLayouts) {
        SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " src " + layout.name + " index " +
                     ::testing::PrintToString(c.index) + " along " + std::to_string(c.dim));
        const Pair out = scatter_both(c, dtype, layout);
        expect_close(out.cuda, out.cpu, 1e-5);
      }
    }
  }
}

TEST(CudaScatterAdd, DeterministicModeGivesTheCpuBitsOnEveryRun) {
  GRAFT_REQUIRE_CUDA();
  const g::testing::SettingsScope deterministic(true);
  for (const ScatterCase& c : kScatterCases) {
    for (g::DType dtype : kAllDTypes) {
      SCOPED_TRACE(std::string(g::dtype_name(dtype)) + " index " +
                   ::testing::PrintToString(c.index) + " along " + std::to_string(c.dim));
      g::manual_seed(5);
      const Pair first = scatter_both(c, dtype, kLayouts[2]);
      g::manual_seed(5);
      const Pair second = scatter_both(c, dtype, kLayouts[2]);
      expect_matches_cpu(first.cuda, first.cpu);
      expect_matches_cpu(second.cuda, first.cuda.cpu());
    }
  }
}

// 1000003 sources into 100 elements: atomics contend, and the deterministic scheme walks
// them on a single thread (its worst case).
TEST(CudaScatterAdd, TenThousandSourcesPerElement) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(6);
  const ScatterCase c = {{100}, {1000003}, 0};
  for (g::DType dtype : {g::kInt32, g::kInt64, g::kFloat32, g::kFloat64}) {
    SCOPED_TRACE(g::dtype_name(dtype));
    const g::testing::SettingsScope atomic(false);
    const Pair out = scatter_both(c, dtype, kLayouts[0]);
    // Sums of ten thousand normal values (about 100 in size): float32 drifts by ~1e-4.
    expect_close(out.cuda, out.cpu, 1e-3);
  }
  const g::testing::SettingsScope deterministic(true);
  const Pair out = scatter_both(c, g::kFloat32, kLayouts[0]);
  expect_matches_cpu(out.cuda, out.cpu);
}

TEST(CudaScatterAdd, BoolIsALogicalOr) {
  GRAFT_REQUIRE_CUDA();
  const Tensor self = make_tensor({0, 1, 0}, {3}, g::kBool);
  const Tensor index = make_tensor({0, 0, 2, 2}, {4}, g::kInt64);
  const Tensor src = make_tensor({1, 1, 0, 0}, {4}, g::kBool);
  for (bool deterministic : {false, true}) {
    const g::testing::SettingsScope scope(deterministic);
    expect_matches_cpu(g::scatter_add(self.to(kCuda), 0, index.to(kCuda), src.to(kCuda)),
                       g::scatter_add(self, 0, index, src));
  }
}

TEST(CudaScatterAdd, InPlaceThroughATransposedView) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(7);
  for (bool deterministic : {false, true}) {
    const g::testing::SettingsScope scope(deterministic);
    const Tensor base = sample({257, 513}, g::kFloat64), index = indices({300, 257}, 513);
    const Tensor src = sample({300, 257}, g::kFloat64);
    const Tensor base_cuda = base.to(kCuda), view = base_cuda.t();
    EXPECT_EQ(&view.scatter_add_(0, index.to(kCuda), src.to(kCuda)), &view);
    base.t().scatter_add_(0, index, src);
    expect_close(base_cuda, base, 1e-12);
  }
}

// ---- bad index values, found on the device

TEST(CudaIndexErrors, BadValuesGiveTheCpuMessage) {
  GRAFT_REQUIRE_CUDA();
  const Tensor x = make_tensor(g::testing::sample_values(6), {3, 2});
  const Tensor x_cuda = x.to(kCuda);
  const auto same_error = [](const std::function<void()>& on_cuda,
                             const std::function<void()>& on_cpu) {
    const std::string message = error_message(on_cpu);
    EXPECT_EQ(error_message(on_cuda), message);
    return message;
  };
  struct BadGather {
    std::vector<double> index;  // shape (1, 2)
    int64_t dim;
    const char* message;
  };
  for (const BadGather& c : {
           BadGather{{0, 7}, 0, "gather(): index 7 is out of bounds for dimension 0 with size 3"},
           BadGather{{-1, 0}, 1, "gather(): index -1 is out of bounds for dimension 1 with size 2"},
           BadGather{{2, -4}, 0, "gather(): index -4 is out of bounds for dimension 0 with size 3"},
       }) {
    const Tensor index = make_tensor(c.index, {1, 2}, g::kInt64);
    EXPECT_EQ(same_error([&] { g::gather(x_cuda, c.dim, index.to(kCuda)); },
                         [&] { g::gather(x, c.dim, index); }),
              c.message);
  }
  for (g::DType index_dtype : {g::kInt32, g::kInt64}) {
    const Tensor index = make_tensor({1, 2, 3, -1}, {4}, index_dtype);
    EXPECT_EQ(same_error([&] { g::index_select(x_cuda, 0, index.to(kCuda)); },
                         [&] { g::index_select(x, 0, index); }),
              "index_select(): index 3 is out of bounds for dimension 0 with size 3");
  }
  // The first bad value in row-major order is the one reported, wherever it sits in a big
  // index.
  Tensor big = g::zeros({1000003}, g::kInt64);
  big.index({999999}).fill_(-5);
  big.index({1000000}).fill_(7);
  EXPECT_EQ(error_message([&] {
              g::gather(g::zeros({3}, g::TensorOptions().device(kCuda)), 0, big.to(kCuda));
            }),
            "gather(): index -5 is out of bounds for dimension 0 with size 3");

  // scatter_add checks every value before adding any, so a failed in-place call leaves self
  // as it was.
  const Tensor src = g::ones({2, 2}, g::kFloat64);
  const Tensor bad = make_tensor({0, 0, 1, 3}, {2, 2}, g::kInt64);
  for (bool deterministic : {false, true}) {
    const g::testing::SettingsScope scope(deterministic);
    EXPECT_EQ(same_error([&] { x_cuda.scatter_add_(0, bad.to(kCuda), src.to(kCuda)); },
                         [&] { g::scatter_add(x, 0, bad, src); }),
              "scatter_add(): index 3 is out of bounds for dimension 0 with size 3");
    expect_matches_cpu(x_cuda, x);
  }
}

// ---- cat and stack of device tensors

TEST(CudaCatStack, DeviceTensorsOfMixedDtypesAndLayouts) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(7);
  const Tensor a = sample({33, 7}, g::kInt32);
  const Tensor b = sample({7, 33}, g::kFloat32).t();                                // transposed
  const Tensor c = sample({66, 7}, g::kUInt8).index({Slice(g::None, g::None, 2)});  // stepped
  const Tensor d = sample({1, 7}, g::kBool).expand({33, 7});                        // expanded
  const Tensor empty = g::zeros({0}, g::kFloat64);  // the legacy empty vector: sits out
  const std::vector<Tensor> parts = {a, b, c, d, empty};
  std::vector<Tensor> parts_cuda;
  for (const Tensor& t : parts) parts_cuda.push_back(t.to(kCuda));
  const Tensor want = g::cat(parts, 0);
  EXPECT_EQ(want.dtype(), g::kFloat64);
  poison_cuda_cache(want.nbytes());
  expect_matches_cpu(g::cat(parts_cuda, 0), want);

  const std::vector<Tensor> columns = {a, b, sample({33, 30303}, g::kInt64)};  // a million
  std::vector<Tensor> columns_cuda;
  for (const Tensor& t : columns) columns_cuda.push_back(t.to(kCuda));
  expect_matches_cpu(g::cat(columns_cuda, 1), g::cat(columns, 1));

  const std::vector<Tensor> same_shape = {a, b, c, d};
  std::vector<Tensor> same_shape_cuda;
  for (const Tensor& t : same_shape) same_shape_cuda.push_back(t.to(kCuda));
  for (int64_t dim : {0, 1, 2, -1}) {
    SCOPED_TRACE(dim);
    const Tensor stacked = g::stack(same_shape, dim);
    poison_cuda_cache(stacked.nbytes());
    expect_matches_cpu(g::stack(same_shape_cuda, dim), stacked);
  }
  EXPECT_THAT(error_message([&] {
                g::cat({a.to(kCuda), b}, 0);
              }),
              HasSubstr("cat(): Expected all tensors to be on the same device"));
}

// ---- empty and 0-d inputs

TEST(CudaIndexEmpty, ZeroDimAndEmptyInputs) {
  GRAFT_REQUIRE_CUDA();
  const Tensor scalar = g::full({}, 2.5), zero = g::zeros({}, g::kInt64);
  expect_matches_cpu(g::gather(scalar.to(kCuda), 0, zero.to(kCuda)), g::gather(scalar, 0, zero));
  expect_matches_cpu(g::index_select(scalar.to(kCuda), 0, zero.to(kCuda)),
                     g::index_select(scalar, 0, zero));
  expect_matches_cpu(g::scatter_add(scalar.to(kCuda), 0, zero.to(kCuda), scalar.to(kCuda)),
                     g::scatter_add(scalar, 0, zero, scalar));
  const Tensor none = g::zeros({0, 3}, g::kInt64), rows = g::ones({4, 3});
  expect_matches_cpu(g::gather(rows.to(kCuda), 0, none.to(kCuda)), g::gather(rows, 0, none));
  expect_matches_cpu(g::index_select(rows.to(kCuda), 1, g::zeros({0}, g::kInt64).to(kCuda)),
                     g::index_select(rows, 1, g::zeros({0}, g::kInt64)));
  expect_matches_cpu(g::scatter_add(rows.to(kCuda), 0, none.to(kCuda), g::zeros({0, 3}).to(kCuda)),
                     g::scatter_add(rows, 0, none, g::zeros({0, 3})));
}

// ---- the flag itself, in every build

TEST(CudaDeterministicFlag, IsRecordedWithOrWithoutADevice) {
  EXPECT_FALSE(g::are_deterministic_algorithms_enabled()) << "off by default";
  {
    const g::testing::SettingsScope scope(true);
    EXPECT_TRUE(g::are_deterministic_algorithms_enabled());
  }
  EXPECT_FALSE(g::are_deterministic_algorithms_enabled());
}

}  // namespace
