// CUDA elementwise ops against their CPU twins, on every layout the CUDA loop tells apart.
//
// kernels/cuda/loops.cuh picks one of three paths per call: vectorized (every operand
// contiguous or a broadcast scalar, the contiguous ones aligned to 4 elements), dense (the
// same operands, misaligned) and strided (anything else; in pieces beyond INT32_MAX
// elements, which one test of 2^31 + 1 bytes reaches). Each op here runs on inputs laid out to
// reach each path and its edges: sizes 1, 7, 33 and 1000003 (never a whole number of 4-element
// vectors, so the vectorized tail runs), views starting at element 1 (a misaligned pointer) and at
// element 4, every other element, transposed, broadcast rows, columns and scalars, 0-d and empty.
// Every op of the X-macro lists in kernels/dispatch.h is covered, for every dtype; where
// the CPU rejects an input (neg of bool, exp_ into an int tensor), CUDA must reject it too.
// The CPU kernels are checked against naive references in tests/kernels/elementwise_test.cpp;
// here the CPU result is the reference, and CUDA outputs land in poisoned memory.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "graft/kernels/dispatch.h"

namespace g = graft;
using g::testing::expect_matches_cpu;
using g::testing::poison_cuda_cache;

namespace {

constexpr g::DType kDTypes[] = {g::kBool,  g::kUInt8,   g::kInt32,
                                g::kInt64, g::kFloat32, g::kFloat64};
constexpr int64_t kBig = 1000003;

// CUDA's math functions and glibc's differ in the last bits; integers must agree exactly.
double rtol(g::DType dtype) {
  return dtype == g::kFloat32 ? 1e-5 : (dtype == g::kFloat64 ? 1e-12 : 0.0);
}
double atol(g::DType dtype) {
  return dtype == g::kFloat32 ? 1e-6 : (dtype == g::kFloat64 ? 1e-13 : 0.0);
}

// Random values of `dtype`: normals for floating types (with negatives, so log and sqrt
// also produce NaNs to compare), small integers otherwise so that integer pow stays in
// range. `non_negative` keeps floating values in [0, 100) for conversions to uint8, which
// C++ leaves undefined for negative values.
g::Tensor random_values(const g::Shape& shape, g::DType dtype, bool non_negative = false) {
  if (g::is_floating_point(dtype))
    return non_negative ? g::rand(shape, dtype) * 100 : g::randn(shape, dtype);
  if (dtype == g::kBool) return g::randint(0, 2, shape, dtype);
  return g::randint(dtype == g::kUInt8 || non_negative ? 0 : -5, 6, shape, dtype);
}

// Where an input's values sit in memory: the contiguous tensor it is cut from and the view
// that cuts it.
struct Layout {
  std::string name;
  g::Shape base;
  std::function<g::Tensor(const g::Tensor&)> view = [](const g::Tensor& t) { return t; };
};

// One input: a CPU tensor and its CUDA twin, same values, same strides and offset.
struct Input {
  g::Tensor cpu, cuda;
};

Input make_input(const Layout& layout, g::DType dtype, bool non_negative = false) {
  const g::Tensor base = random_values(layout.base, dtype, non_negative);
  return {layout.view(base), layout.view(base.cuda())};
}

Layout contiguous(int64_t n) { return {"contiguous " + std::to_string(n), {n}}; }
// Elements start..start + n - 1 of a contiguous tensor: start 1 misaligns the pointer for
// the vectorized path; start 4 keeps it aligned.
Layout starting_at(int64_t start, int64_t n) {
  return {"elements " + std::to_string(start) + ".. of a contiguous tensor, " + std::to_string(n),
          {start + n},
          [start, n](const g::Tensor& t) { return t.narrow(0, start, n); }};
}
Layout every_other(int64_t n) {
  return {"every other element, " + std::to_string(n), {2 * n}, [](const g::Tensor& t) {
            return t.index({g::Slice(g::None, g::None, 2)});
          }};
}
// The 2-D layouts all have shape (7, 33) or broadcast to it.
const Layout kMatrix{"contiguous 7x33", {7, 33}};
const Layout kTransposed{"(33x7).t()", {33, 7}, [](const g::Tensor& t) { return t.t(); }};
const Layout kSliced{"every other column of 7x66", {7, 66}, [](const g::Tensor& t) {
                       return t.index({g::Slice(), g::Slice(0, g::None, 2)});
                     }};
const Layout kExpanded{"1x33 expanded to 7x33", {1, 33}, [](const g::Tensor& t) {
                         return t.expand({7, 33});
                       }};
const Layout kRow{"row of 33", {33}};
const Layout kColumn{"column 7x1", {7, 1}};
const Layout kZeroDim{"0-d", {}};
const Layout kEmpty{"empty 0x33", {0, 33}};

std::vector<Layout> single_layouts() {
  return {contiguous(1),
          contiguous(7),
          contiguous(33),
          contiguous(kBig),
          starting_at(1, 7),
          starting_at(1, kBig),
          starting_at(4, 33),
          every_other(kBig),
          kTransposed,
          kSliced,
          kExpanded,
          kZeroDim,
          kEmpty};
}

// Pairs of layouts that broadcast together: equal shapes on every path, then broadcasts.
std::vector<std::pair<Layout, Layout>> layout_pairs() {
  std::vector<std::pair<Layout, Layout>> pairs;
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{33}, kBig})
    pairs.emplace_back(contiguous(n), contiguous(n));
  pairs.emplace_back(starting_at(1, kBig), contiguous(kBig));
  pairs.emplace_back(contiguous(33), starting_at(1, 33));
  pairs.emplace_back(starting_at(4, 33), starting_at(4, 33));
  pairs.emplace_back(every_other(kBig), contiguous(kBig));
  pairs.emplace_back(contiguous(kBig), kZeroDim);
  pairs.emplace_back(kTransposed, kSliced);
  pairs.emplace_back(kMatrix, kRow);
  pairs.emplace_back(kRow, kMatrix);
  pairs.emplace_back(kMatrix, kColumn);
  pairs.emplace_back(kColumn, kRow);
  pairs.emplace_back(kZeroDim, kMatrix);
  pairs.emplace_back(kZeroDim, kZeroDim);
  pairs.emplace_back(kExpanded, kTransposed);
  pairs.emplace_back(kEmpty, kRow);
  return pairs;
}

// Runs `op` on the CPU inputs and on their CUDA twins and checks that CUDA computed what
// the CPU did, into poisoned memory. When the CPU rejects the inputs with a graft::Error,
// CUDA must reject them too. In-place ops change their inputs: give each call fresh ones.
template <class Op, class... Inputs>
void expect_cuda_matches_cpu(const Op& op, const Inputs&... in) {
  g::Tensor want;
  try {
    want = op(in.cpu...);
  } catch (const g::Error& e) {
    EXPECT_THROW(op(in.cuda...), g::Error) << "the CPU said: " << e.what();
    return;
  }
  poison_cuda_cache(want.nbytes());
  expect_matches_cpu(op(in.cuda...), want, rtol(want.dtype()), atol(want.dtype()));
}

std::string describe(const std::string& op, g::DType dtype, const std::string& layout) {
  return op + " on " + g::dtype_name(dtype) + ", " + layout;
}

// ---- every op of the lists in kernels/dispatch.h, with its in-place form where it has one

struct UnaryCase {
  const char* name;
  g::Tensor (*op)(const g::Tensor&);
  const g::Tensor& (*inplace)(const g::Tensor&);
};
#define GRAFT_UNARY_CASE(name, ...) UnaryCase{#name, &g::name, &g::name##_},
const UnaryCase kUnaryCases[] = {GRAFT_UNARY_OPS(GRAFT_UNARY_CASE)};
#undef GRAFT_UNARY_CASE

struct BinaryCase {
  const char* name;
  g::Tensor (*op)(const g::Tensor&, const g::Tensor&);
  g::Tensor (*tensor_scalar)(const g::Tensor&, g::Scalar);
  g::Tensor (*scalar_tensor)(g::Scalar, const g::Tensor&);
  const g::Tensor& (*inplace)(const g::Tensor&, const g::Tensor&);  // null for comparisons
};
#define GRAFT_BINARY_CASE(name, ...) BinaryCase{#name, &g::name, &g::name, &g::name, &g::name##_},
#define GRAFT_COMPARISON_CASE(name, ...) BinaryCase{#name, &g::name, &g::name, &g::name, nullptr},
const BinaryCase kBinaryCases[] = {GRAFT_BINARY_OPS(GRAFT_BINARY_CASE)
                                       GRAFT_COMPARISON_OPS(GRAFT_COMPARISON_CASE)};
#undef GRAFT_BINARY_CASE
#undef GRAFT_COMPARISON_CASE

TEST(CudaElementwise, UnaryOpsMatchTheCpuOnEveryLayoutAndDType) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(0);
  for (const UnaryCase& c : kUnaryCases) {
    for (g::DType dtype : kDTypes) {
      for (const Layout& layout : single_layouts()) {
        SCOPED_TRACE(describe(c.name, dtype, layout.name));
        expect_cuda_matches_cpu(c.op, make_input(layout, dtype));
        // In place: the output is the (possibly misaligned or strided) input view itself.
        expect_cuda_matches_cpu([&](const g::Tensor& x) { return c.inplace(x); },
                                make_input(layout, dtype));
      }
    }
  }
}

TEST(CudaElementwise, BinaryOpsAndComparisonsMatchTheCpuOnEveryLayoutPairAndDType) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(1);
  for (const BinaryCase& c : kBinaryCases) {
    for (g::DType dtype : kDTypes) {
      for (const auto& [a, b] : layout_pairs()) {
        SCOPED_TRACE(describe(c.name, dtype, a.name + " with " + b.name));
        expect_cuda_matches_cpu(c.op, make_input(a, dtype), make_input(b, dtype));
        if (c.inplace != nullptr) {
          expect_cuda_matches_cpu(
              [&](const g::Tensor& x, const g::Tensor& y) { return c.inplace(x, y); },
              make_input(a, dtype), make_input(b, dtype));
        }
      }
    }
  }
}

// A C++ number as either operand: it becomes a 0-d tensor of the promoted dtype, read
// through a zero stride (the dense path's broadcast scalar).
TEST(CudaElementwise, BinaryOpsWithAScalarOperandMatchTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(2);
  for (const BinaryCase& c : kBinaryCases) {
    for (g::DType dtype : kDTypes) {
      for (const Layout& layout : {contiguous(kBig), starting_at(1, 33), kTransposed, kZeroDim}) {
        for (g::Scalar s : {g::Scalar(3), g::Scalar(-0.75), g::Scalar(true)}) {
          SCOPED_TRACE(describe(c.name, dtype, layout.name) + ", scalar of dtype " +
                       g::dtype_name(s.dtype()));
          expect_cuda_matches_cpu([&](const g::Tensor& x) { return c.tensor_scalar(x, s); },
                                  make_input(layout, dtype));
          expect_cuda_matches_cpu([&](const g::Tensor& x) { return c.scalar_tensor(s, x); },
                                  make_input(layout, dtype));
        }
      }
    }
  }
}

// Operands of different dtypes are converted to the promoted dtype on the device first.
TEST(CudaElementwise, MixedDTypeOperandsPromoteLikeTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(3);
  for (const BinaryCase& c : kBinaryCases) {
    for (g::DType a : kDTypes) {
      for (g::DType b : kDTypes) {
        SCOPED_TRACE(std::string(c.name) + " of " + g::dtype_name(a) + " and " + g::dtype_name(b));
        expect_cuda_matches_cpu(c.op, make_input(kMatrix, a), make_input(kRow, b));
      }
    }
  }
}

TEST(CudaElementwise, WhereMatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(4);
  struct Layouts {
    Layout cond, a, b;
  };
  const Layouts cases[] = {
      {contiguous(7), contiguous(7), contiguous(7)},
      {contiguous(kBig), starting_at(1, kBig), contiguous(kBig)},
      {starting_at(4, 33), starting_at(4, 33), starting_at(4, 33)},
      {kMatrix, kRow, kColumn},
      {kRow, kTransposed, kZeroDim},
      {kSliced, kExpanded, kMatrix},
      {kZeroDim, kZeroDim, kZeroDim},
      {kEmpty, kRow, kRow},
  };
  for (g::DType dtype : kDTypes) {
    for (const Layouts& l : cases) {
      SCOPED_TRACE(describe("where", dtype, l.cond.name + " / " + l.a.name + " / " + l.b.name));
      const Input cond = make_input(l.cond, g::kBool);
      const Input a = make_input(l.a, dtype), b = make_input(l.b, dtype);
      expect_cuda_matches_cpu([](const g::Tensor& c, const g::Tensor& x,
                                 const g::Tensor& y) { return g::where(c, x, y); },
                              cond, a, b);
      expect_cuda_matches_cpu(
          [](const g::Tensor& c, const g::Tensor& x) { return g::where(c, x, 1.5); }, cond, a);
      expect_cuda_matches_cpu(
          [](const g::Tensor& c, const g::Tensor& y) { return g::where(c, -2, y); }, cond, b);
    }
  }
}

TEST(CudaElementwise, ClampMatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(5);
  struct Bounds {
    std::optional<g::Scalar> min, max;
  };
  const Bounds bounds[] = {
      {-1, 2}, {g::Scalar(-0.5), g::Scalar(0.5)}, {0, std::nullopt}, {std::nullopt, 1.25}};
  for (g::DType dtype : kDTypes) {
    for (const Layout& layout : single_layouts()) {
      for (const Bounds& b : bounds) {
        SCOPED_TRACE(describe("clamp", dtype, layout.name));
        expect_cuda_matches_cpu([&](const g::Tensor& x) { return g::clamp(x, b.min, b.max); },
                                make_input(layout, dtype));
        expect_cuda_matches_cpu([&](const g::Tensor& x) { return g::clamp_(x, b.min, b.max); },
                                make_input(layout, dtype));
      }
    }
  }
}

TEST(CudaElementwise, MaskedFillMatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(6);
  const std::pair<Layout, Layout> cases[] = {
      {contiguous(33), contiguous(33)},
      {starting_at(1, kBig), contiguous(kBig)},
      {kMatrix, kRow},
      {kTransposed, kColumn},
      {kSliced, kZeroDim},
      {kEmpty, kRow},
  };
  for (g::DType dtype : kDTypes) {
    for (const auto& [x_layout, mask_layout] : cases) {
      for (g::Scalar value : {g::Scalar(9.5), g::Scalar(-2)}) {
        SCOPED_TRACE(describe("masked_fill", dtype, x_layout.name + ", mask " + mask_layout.name));
        expect_cuda_matches_cpu(
            [&](const g::Tensor& x, const g::Tensor& m) { return g::masked_fill(x, m, value); },
            make_input(x_layout, dtype), make_input(mask_layout, g::kBool));
        expect_cuda_matches_cpu(
            [&](const g::Tensor& x, const g::Tensor& m) { return g::masked_fill_(x, m, value); },
            make_input(x_layout, dtype), make_input(mask_layout, g::kBool));
      }
    }
  }
}

// copy_ converts between every pair of dtypes and writes into any writable view.
TEST(CudaElementwise, CopyBetweenEveryDTypePairMatchesTheCpu) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(7);
  struct Layouts {
    Layout dst, src;
  };
  const Layouts cases[] = {
      {contiguous(33), contiguous(33)},
      {contiguous(kBig), starting_at(1, kBig)},
      {starting_at(1, kBig), contiguous(kBig)},
      {kTransposed, kMatrix},
      {kSliced, kRow},
      {kMatrix, kZeroDim},
      {kEmpty, kRow},
  };
  // The 16-bit types too: a float copied into one is rounded a pair an access (loops.cuh).
  constexpr g::DType kCopyDTypes[] = {g::kBool,    g::kUInt8,   g::kInt32,   g::kInt64,
                                      g::kFloat32, g::kFloat64, g::kFloat16, g::kBFloat16};
  for (g::DType dst : kCopyDTypes) {
    for (g::DType src : kCopyDTypes) {
      for (const Layouts& l : cases) {
        SCOPED_TRACE(std::string("copy_ from ") + g::dtype_name(src) + " " + l.src.name + " into " +
                     g::dtype_name(dst) + " " + l.dst.name);
        expect_cuda_matches_cpu([](const g::Tensor& d, const g::Tensor& s) { return d.copy_(s); },
                                make_input(l.dst, dst), make_input(l.src, src, dst == g::kUInt8));
      }
    }
  }
}

TEST(CudaElementwise, FillMatchesTheCpuOnEveryWritableLayout) {
  GRAFT_REQUIRE_CUDA();
  g::manual_seed(8);
  for (g::DType dtype : kDTypes) {
    for (const Layout& layout : single_layouts()) {
      for (g::Scalar value : {g::Scalar(2.5), g::Scalar(-3), g::Scalar(true)}) {
        SCOPED_TRACE(describe("fill_", dtype, layout.name));
        expect_cuda_matches_cpu([&](const g::Tensor& x) { return x.fill_(value); },
                                make_input(layout, dtype));
      }
    }
  }
}

// The strided kernel indexes in 32 bits and runs a longer iteration in pieces
// (split_elementwise_iter): a transposed copy of 2^31 + 1 bytes, rows of 1, 2 and 3, must
// come out as rows (1, 2, 3) everywhere, no element missed (the output starts poisoned) or
// put in another's place. About 4.3 GB of GPU memory; skipped where there is not that much.
TEST(CudaElementwise, StridedIterationsBeyondInt32MaxRunInPieces) {
  GRAFT_REQUIRE_CUDA();
  constexpr int64_t kColumns = 715827883;  // 3 * kColumns = 2^31 + 1
  g::Tensor copied;
  try {
    const g::Tensor rows = g::arange(1, 4, 1, g::TensorOptions(g::kUInt8).device(g::Device::cuda()))
                               .view({3, 1})
                               .expand({3, kColumns})
                               .contiguous();
    poison_cuda_cache(3 * kColumns, 1);
    copied = rows.t().contiguous();  // (kColumns, 3): a strided read of every element
  } catch (const g::OutOfMemoryError& e) {
    GTEST_SKIP() << "not enough GPU memory for 2 x 2^31 bytes: " << e.what();
  }
  ASSERT_EQ(copied.shape(), (g::Shape{kColumns, 3}));
  // Column sums (int64): kColumns times 1, 2 and 3; a poisoned element would add 255.
  const g::Tensor column_sums = g::sum(copied, {0}).cpu();
  for (int64_t c = 0; c < 3; ++c)
    EXPECT_EQ(column_sums.index({c}).item<int64_t>(), (c + 1) * kColumns) << "column " << c;
  for (const int64_t row : {int64_t{0}, kColumns / 2, kColumns - 1}) {
    const g::Tensor got = copied.index({row}).cpu().to(g::kInt64);
    for (int64_t c = 0; c < 3; ++c)
      EXPECT_EQ(got.index({c}).item<int64_t>(), c + 1) << "row " << row << ", column " << c;
  }
}

}  // namespace
