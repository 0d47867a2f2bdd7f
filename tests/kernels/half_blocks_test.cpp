// The CPU's 16-bit float blocks: widen_block and narrow_block (kernels/cpu/half_blocks.h), in
// each of their forms (x86-64-v3's, AVX-512's, and for bfloat16 AVX512-BF16's, where the CPU
// has them), give graft::Half's and graft::BFloat16's own bits for every pattern and at every
// rounding boundary; and an elementwise op run through float blocks (a dense run,
// kernels/cpu/loops.h) gives the same bits as the element-by-element strided loop. (exp and the
// other ops with an array form are the exception: Eigen's vectorised exp is not std::exp, in
// float32 as in 16 bits.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "graft/kernels/cpu/half_blocks.h"
#include "test_util.h"

namespace g = graft;

namespace {

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Every pattern, by `widen` (one of the forms of half_blocks.h); the count leaves no tail, so a
// second call widens the last 13 alone.
template <class H, class Widen>
void expect_every_pattern_widens_as_the_scalar_type(const Widen& widen) {
  std::vector<H> all(65536);
  for (uint32_t b = 0; b < 65536; ++b) all[b] = H::from_bits(static_cast<uint16_t>(b));
  std::vector<float> wide(all.size());
  widen(all.data(), wide.data(), static_cast<int64_t>(all.size()));
  widen(all.data() + all.size() - 13, wide.data() + all.size() - 13, 13);
  for (uint32_t b = 0; b < 65536; ++b)
    ASSERT_EQ(float_bits(wide[b]), float_bits(static_cast<float>(all[b]))) << "pattern " << b;
}

// Every pattern's float, the floats on either side of it and the midpoints between
// neighbouring patterns (the ties), both signs; plus a length that leaves a tail.
template <class H, class Narrow>
void expect_boundaries_narrow_as_the_scalar_type(const Narrow& narrow_block) {
  std::vector<float> values;
  for (uint32_t b = 0; b < 65536; ++b) {
    const float v = static_cast<float>(H::from_bits(static_cast<uint16_t>(b)));
    const float next = static_cast<float>(H::from_bits(static_cast<uint16_t>(b + 1)));
    values.insert(values.end(), {v, std::nextafter(v, INFINITY), std::nextafter(v, -INFINITY)});
    if (std::isfinite(v) && std::isfinite(next) && b != 0x7fff && b != 0xffff)
      values.push_back(v + (next - v) / 2);
  }
  values.push_back(1.0f);  // the count is not a multiple of 8 or 16
  std::vector<H> narrow(values.size());
  narrow_block(values.data(), narrow.data(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(narrow[i].bits(), H(values[i]).bits()) << "value " << values[i];
}

// Each form by name, whichever widen_block and narrow_block choose on this CPU.
const auto widen_v3 = [](const auto* in, float* out, int64_t n) {
  g::kernels::cpu::widen_block_v3(in, out, n);
};
const auto widen_avx512 = [](const auto* in, float* out, int64_t n) {
  g::kernels::cpu::widen_block_avx512(in, out, n);
};
const auto narrow_v3 = [](const float* in, auto* out, int64_t n) {
  g::kernels::cpu::narrow_block_v3(in, out, n);
};
const auto narrow_avx512 = [](const float* in, auto* out, int64_t n) {
  g::kernels::cpu::narrow_block_avx512(in, out, n);
};
const auto narrow_avx512_bf16 = [](const float* in, g::BFloat16* out, int64_t n) {
  g::kernels::cpu::narrow_block_avx512_bf16(in, out, n);
};

TEST(HalfBlocks, WidenEveryPatternAsTheScalarTypes) {
  expect_every_pattern_widens_as_the_scalar_type<g::Half>(widen_v3);
  expect_every_pattern_widens_as_the_scalar_type<g::BFloat16>(widen_v3);
}

TEST(HalfBlocks, NarrowEveryBoundaryAsTheScalarTypes) {
  expect_boundaries_narrow_as_the_scalar_type<g::Half>(narrow_v3);
  expect_boundaries_narrow_as_the_scalar_type<g::BFloat16>(narrow_v3);
}

TEST(HalfBlocks, SixteenLaneFormsWidenAndNarrowAsTheScalarTypes) {
  if (!g::kernels::cpu::cpu_runs_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  expect_every_pattern_widens_as_the_scalar_type<g::Half>(widen_avx512);
  expect_every_pattern_widens_as_the_scalar_type<g::BFloat16>(widen_avx512);
  expect_boundaries_narrow_as_the_scalar_type<g::Half>(narrow_avx512);
  expect_boundaries_narrow_as_the_scalar_type<g::BFloat16>(narrow_avx512);
}

// vcvtneps2bf16 counts a subnormal float as zero, so its form sends a vector holding one the
// integer way: vectors of zeros and normal values alone, then one subnormal in each lane of
// a vector of normal values (ties and NaNs among them), each lane as the scalar type rounds it.
// Three vectors without one first: the form takes vectors in pairs, so a pair of them, a pair
// whose second vector alone has one, and a last vector on its own are all met.
TEST(HalfBlocks, BFloat16InstructionFormNarrowsAsTheScalarType) {
  if (!g::kernels::cpu::cpu_runs_avx512_bf16()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  expect_boundaries_narrow_as_the_scalar_type<g::BFloat16>(narrow_avx512_bf16);
  const float normals[16] = {
      0.0f,          -0.0f,          1.0f + 0x1p-8f,  -(1.0f + 0x3p-8f), 0x1p-126f,
      -0x1.ffp-126f, 3.4e38f,        -INFINITY,       INFINITY,          std::nanf(""),
      65504.0f,      1.0f + 0x1p-9f, -7.0f + 0x1p-6f, 0x1.0101p0f,       1e-30f,
      -2.5e-38f};
  std::vector<float> values;
  for (int copy = 0; copy < 3; ++copy) values.insert(values.end(), normals, normals + 16);
  for (int lane = 0; lane < 16; ++lane) {
    values.insert(values.end(), normals, normals + 16);
    values[values.size() - 16 + lane] = lane % 2 ? -0x1.0181p-127f : 0x1p-149f * (lane + 1);
  }
  std::vector<g::BFloat16> narrow(values.size());
  narrow_avx512_bf16(values.data(), narrow.data(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(narrow[i].bits(), g::BFloat16(values[i]).bits())
        << "value " << values[i] << " at " << i;
}

// (rows, cols) values spread over the 16-bit range, contiguous; and the same values in
// every other column of a wider tensor, a stride of 2 that the loops walk element by
// element.
struct SameValuesTwoLayouts {
  g::Tensor dense, strided;
};

SameValuesTwoLayouts make(g::DType dtype, int64_t rows, int64_t cols, double scale, uint32_t seed) {
  const g::Tensor values =
      g::testing::make_tensor(g::testing::sample_values(rows * cols, -scale, scale, seed),
                              {rows, cols}, g::kFloat32)
          .to(dtype);
  const g::Tensor wide = g::zeros({rows, 2 * cols}, dtype);
  const g::Tensor every_other = wide.as_strided({rows, cols}, {2 * cols, 2}, 0);
  every_other.copy_(values);
  return {values, every_other};
}

void expect_same_bits(const g::Tensor& a, const g::Tensor& b, const char* what) {
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  const g::Tensor x = a.contiguous(), y = b.contiguous();
  ASSERT_EQ(std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()), 0) << what << " on " << a.dtype();
}

TEST(HalfBlocks, DenseRunsGiveTheStridedLoopsBits) {
  // 37 x 300: rows longer than a block (256) with a tail, and a tail of the 8-wide vectors.
  for (const g::DType dtype : {g::kFloat16, g::kBFloat16}) {
    const auto [a, at] = make(dtype, 37, 300, 70000.0, 1);  // float16 overflows past 65504
    const auto [b, bt] = make(dtype, 37, 300, 3.0, 2);
    expect_same_bits(a + b, at + bt, "a + b");
    expect_same_bits(a * 0.3, at * 0.3, "a * 0.3");
    expect_same_bits(b / a, bt / at, "b / a");
    expect_same_bits(g::tanh(b), g::tanh(bt), "tanh");
    expect_same_bits(g::clamp(b, -1.0, 2.0), g::clamp(bt, -1.0, 2.0), "clamp");
    expect_same_bits(a > b, at > bt, "a > b");
    expect_same_bits(b.to(g::kFloat32), bt.to(g::kFloat32), "to float32");
    const g::DType other = dtype == g::kFloat16 ? g::kBFloat16 : g::kFloat16;
    expect_same_bits(b.to(other), bt.to(other), "to the other 16-bit type");
    const auto [f, ft] = make(g::kFloat32, 37, 300, 70000.0, 3);
    expect_same_bits(f.to(dtype), ft.to(dtype), "from float32");
  }
}

}  // namespace
