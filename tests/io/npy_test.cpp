// graft::save_npy / graft::load_npy: NumPy's files read exactly (versions 1.0-3.0, both
// memory orders), graft's files byte-identical to NumPy's, round trips of every dtype, and
// one rejection per way a header or a file can be malformed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "io/checkpoint_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::testing::append_little_endian;
using g::testing::append_text;
using g::testing::Bytes;
using g::testing::error_message;
using g::testing::expect_identical;
using g::testing::golden;
using g::testing::make_tensor;
using g::testing::read_bytes;
using g::testing::TempDir;
using g::testing::write_file;
using ::testing::HasSubstr;

namespace {

constexpr g::DType kDTypes[] = {g::kBool,    g::kUInt8,   g::kInt32,  g::kInt64,
                                g::kFloat16, g::kFloat32, g::kFloat64};

// f16.npy's values: 0.1 (rounded), -65504, 2^-14 (the smallest normal), NaN.
g::Tensor golden_f16() {
  return g::testing::from_bits<g::Half>({0x2e66, 0xfbff, 0x0400, 0x7e00}, {2, 2});
}

// ---- files written by NumPy (tests/io/golden/make_golden.py)

TEST(Npy, ReadsVersions1To3) {
  const g::Tensor want = make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, g::kFloat32);
  for (const char* name : {"f32_v1.npy", "f32_v2.npy", "f32_v3.npy"}) {
    SCOPED_TRACE(name);
    expect_identical(g::load_npy(golden(name)), want);
  }
}

TEST(Npy, ReadsFortranOrderAsTheSameValuesInRowMajorOrder) {
  // On disk the bytes run 1 4 2 5 3 6; the values are still [[1, 2, 3], [4, 5, 6]].
  const g::Tensor matrix = g::load_npy(golden("f32_fortran.npy"));
  expect_identical(matrix, make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, g::kFloat32));
  EXPECT_TRUE(matrix.is_contiguous());

  // np.arange(24).reshape(2, 3, 4): the element at (i, j, k) is 12 i + 4 j + k.
  std::vector<double> arange;
  for (int i = 0; i < 24; ++i) arange.push_back(i);
  const g::Tensor cube = g::load_npy(golden("i32_fortran_3d.npy"));
  expect_identical(cube, make_tensor(arange, {2, 3, 4}, g::kInt32));
  EXPECT_TRUE(cube.is_contiguous());
}

TEST(Npy, ReadsEveryDTypeAZeroDimAndAnEmptyArray) {
  expect_identical(g::load_npy(golden("f64_scalar.npy")), make_tensor({-0.25}, {}));
  expect_identical(g::load_npy(golden("i64_empty.npy")), make_tensor({}, {0, 4}, g::kInt64));
  expect_identical(g::load_npy(golden("u8.npy")), make_tensor({0, 7, 255}, {3}, g::kUInt8));
  expect_identical(g::load_npy(golden("bool.npy")), make_tensor({1, 0, 0, 1}, {2, 2}, g::kBool));
  expect_identical(g::load_npy(golden("i32.npy")),
                   make_tensor({-2147483648.0, 0, 2147483647}, {3}, g::kInt32));
  expect_identical(g::load_npy(golden("f16.npy")), golden_f16());
}

// ---- what graft writes: the very bytes NumPy writes for the same array

TEST(Npy, WritesTheSameBytesAsNumpy) {
  TempDir dir;
  const struct {
    const char* golden;
    g::Tensor tensor;
  } cases[] = {
      {"f32_v1.npy", make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, g::kFloat32)},
      {"f64_scalar.npy", make_tensor({-0.25}, {})},
      {"i64_empty.npy", make_tensor({}, {0, 4}, g::kInt64)},
      {"u8.npy", make_tensor({0, 7, 255}, {3}, g::kUInt8)},
      {"bool.npy", make_tensor({1, 0, 0, 1}, {2, 2}, g::kBool)},
      {"i32.npy", make_tensor({-2147483648.0, 0, 2147483647}, {3}, g::kInt32)},
      {"f16.npy", golden_f16()},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.golden);
    g::save_npy(c.tensor, dir / "x.npy");
    EXPECT_EQ(read_bytes(dir / "x.npy"), read_bytes(golden(c.golden)));
  }
}

TEST(Npy, RoundTripsEveryDTypeAndShape) {
  TempDir dir;
  for (g::DType dtype : kDTypes) {
    for (const g::Shape& shape : {g::Shape{}, g::Shape{0}, g::Shape{5}, g::Shape{2, 3, 4},
                                  g::Shape{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}}) {
      SCOPED_TRACE(g::dtype_name(dtype) + shape.str());
      const g::Tensor t =
          make_tensor(g::testing::sample_values(shape.numel(), 0, 250), shape, dtype);
      g::save_npy(t, dir / "x.npy");
      expect_identical(g::load_npy(dir / "x.npy"), t);
      EXPECT_EQ(read_bytes(dir / "x.npy").size() % 64, static_cast<size_t>(t.nbytes() % 64));
    }
  }
}

TEST(Npy, WritesNonContiguousViewsInRowMajorOrder) {
  TempDir dir;
  const g::Tensor base = make_tensor({0, 1, 2, 3, 4, 5}, {2, 3}, g::kInt64);
  g::save_npy(base.t(), dir / "x.npy");
  expect_identical(g::load_npy(dir / "x.npy"), make_tensor({0, 3, 1, 4, 2, 5}, {3, 2}, g::kInt64));
}

TEST(Npy, CopiesCudaTensorsToTheHost) {
  GRAFT_REQUIRE_CUDA();
  TempDir dir;
  const g::Tensor host = make_tensor(g::testing::sample_values(6), {2, 3});
  g::save_npy(host.cuda(), dir / "x.npy");
  expect_identical(g::load_npy(dir / "x.npy"), host);
}

TEST(Npy, SaveErrorsNameTheFile) {
  TempDir dir;
  EXPECT_THAT(
      error_message([&] { g::save_npy(g::Tensor(), dir / "x.npy"); }),
      HasSubstr("save_npy(): \"" + (dir / "x.npy").string() + "\": the tensor is undefined"));
  EXPECT_THAT(error_message([&] { g::save_npy(make_tensor({1}, {1}), dir / "no" / "x.npy"); }),
              HasSubstr("cannot create the temporary file"));
}

// ---- malformed files

// A .npy file: magic, `version`, the header length in the version's width, `header` as
// given (no padding added), then `data_bytes` zero bytes.
Bytes npy_bytes(const std::string& header, size_t data_bytes, int version = 1) {
  Bytes out;
  append_text(out, "\x93NUMPY");
  out.push_back(static_cast<uint8_t>(version));
  out.push_back(0);
  append_little_endian(out, header.size(), version == 1 ? 2 : 4);
  append_text(out, header);
  out.resize(out.size() + data_bytes, 0);
  return out;
}

std::string load_error(const Bytes& bytes) {
  TempDir dir;
  write_file(dir / "bad.npy", bytes);
  const std::string message = error_message([&] { g::load_npy(dir / "bad.npy"); });
  EXPECT_THAT(message, HasSubstr("load_npy(): \"" + (dir / "bad.npy").string() + "\": "));
  return message;
}

std::string dict(const std::string& descr, const std::string& fortran, const std::string& shape) {
  return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
}

TEST(NpyMalformed, AcceptsWhatNumpyAcceptsBesidesItsOwnSpelling) {
  // Double quotes, no spaces, no trailing comma, keys in another order, Python 2's 3L.
  TempDir dir;
  write_file(dir / "x.npy",
             npy_bytes("{\"shape\":(3L,),\"descr\":\"<i4\",\"fortran_order\":False}", 12));
  expect_identical(g::load_npy(dir / "x.npy"), make_tensor({0, 0, 0}, {3}, g::kInt32));
}

TEST(NpyMalformed, ThePreamble) {
  EXPECT_THAT(load_error({0x93, 'N', 'U'}),
              HasSubstr("not a .npy file: it is 3 bytes long, shorter than the magic string and "
                        "version"));
  EXPECT_THAT(load_error(Bytes(16, 'x')),
              HasSubstr("not a .npy file: it does not start with the magic string"));
  EXPECT_THAT(load_error(npy_bytes("{}", 0, 4)),
              HasSubstr("unsupported .npy version 4.0 (graft reads 1.0, 2.0 and 3.0)"));
  Bytes minor = npy_bytes("{}", 0);
  minor[7] = 1;
  EXPECT_THAT(load_error(minor), HasSubstr("unsupported .npy version 1.1"));
  Bytes cut = npy_bytes("", 0, 2);
  cut.resize(10);  // 2 of the 4 bytes of a 2.0 header length
  EXPECT_THAT(load_error(cut), HasSubstr("the file ends inside the header length"));
}

TEST(NpyMalformed, HeaderLengthTooLongOrPastTheEnd) {
  Bytes bytes = npy_bytes("", 0, 2);
  bytes.resize(8);
  append_little_endian(bytes, (1 << 20) + 1, 4);
  EXPECT_THAT(load_error(bytes),
              HasSubstr("the header length is 1048577 bytes, more than the 1048576 graft accepts"));
  bytes = npy_bytes("{}", 0);
  bytes[8] = 100;
  EXPECT_THAT(load_error(bytes),
              HasSubstr("the header length is 100 bytes but only 2 bytes follow it (is the file "
                        "truncated?)"));
}

TEST(NpyMalformed, EveryBadHeaderField) {
  const struct {
    std::string header;
    size_t data_bytes;
    std::string message;
  } cases[] = {
      {"", 0, "invalid header at character 0: expected '{'"},
      {"{'descr': '<f4'", 0, "expected ',' or '}' after the value of 'descr'"},
      {"{'descr' '<f4'}", 0, "invalid header at character 9: expected ':'"},
      {"{descr: '<f4'}", 0, "expected a quoted string"},
      {"{'descr: '<f4'}", 0, "expected ':'"},
      {"{'descr", 0, "a string is not closed"},
      {"{'de\\scr': 1}", 0, "escapes in strings are not supported"},
      {dict("'<f4'", "False", "(2,)") + "x", 8, "unexpected text after the closing '}'"},
      {"{'fortran_order': False, 'shape': (2,), }", 8, "the header has no 'descr'"},
      {"{'descr': '<f4', 'shape': (2,), }", 8, "the header has no 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False}", 8, "the header has no 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8,
       "unexpected key 'x' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')"},
      {"{'descr': '<f4', 'descr': '<f4'}", 8, "the key 'descr' appears twice"},
      {"{'fortran_order': True, 'fortran_order': True}", 8,
       "the key 'fortran_order' appears twice"},
      {"{'shape': (), 'shape': ()}", 8, "the key 'shape' appears twice"},
      {dict("[('a', '<f4')]", "False", "(2,)"), 8,
       "'descr' must be a string such as '<f4' (structured dtypes are not supported)"},
      {dict("'>f4'", "False", "(2,)"), 8,
       "the dtype '>f4' is big-endian, which graft does not read"},
      {dict("'|O'", "False", "(2,)"), 16,
       "the dtype '|O' is an object array, stored with pickle, which graft never loads"},
      {dict("'<u2'", "False", "(2,)"), 4,
       "the dtype '<u2' is not supported (graft reads '<f2', '<f4', '<f8', '<i4', '<i8', '|u1' "
       "and '|b1')"},
      {dict("'<f4'", "0", "(2,)"), 8, "'fortran_order' must be True or False"},
      {dict("'<f4'", "false", "(2,)"), 8, "'fortran_order' must be True or False"},
      {dict("'<f4'", "False", "[2]"), 8, "'shape' must be a tuple such as (2, 3)"},
      {dict("'<f4'", "False", "(2)"), 8,
       "'shape' is not a tuple: a 1-d shape is written (n,), with a comma"},
      {dict("'<f4'", "False", "(2 3)"), 24, "expected ',' or ')' in 'shape'"},
      {dict("'<f4'", "False", "(2, x)"), 8, "expected an integer in 'shape'"},
      {dict("'<f4'", "False", "(99999999999999999999,)"), 8,
       "a size in 'shape' does not fit in 64 bits"},
      {dict("'<f4'", "False", "(-2,)"), 8, "the array has a negative size -2 in its shape"},
      {dict("'<f4'", "False", "(4294967296, 4294967296)"), 8,
       "the array has the shape (4294967296, 4294967296), whose byte size overflows 64 bits"},
      {dict("'<f4'", "False", "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)"), 4,
       "the array has 17 dims; graft tensors have at most 16"},
      {dict("'<f4'", "False", "(2, 3)"), 20,
       "the header says '<f4' of shape (2, 3), which is 24 bytes, but 20 bytes follow the "
       "header (is the file truncated?)"},
      {dict("'<f4'", "True", "(2, 3)"), 28, "which is 24 bytes, but 28 bytes follow the header"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    EXPECT_THAT(load_error(npy_bytes(c.header, c.data_bytes)), HasSubstr(c.message));
  }
}

TEST(NpyMalformed, BooleansOtherThan0Or1) {
  Bytes bytes = npy_bytes(dict("'|b1'", "False", "(2,)"), 2);
  bytes.back() = 2;
  EXPECT_THAT(load_error(bytes),
              HasSubstr("the array is boolean but element 1 is the byte 2; booleans must be stored "
                        "as 0 or 1"));
}

}  // namespace
