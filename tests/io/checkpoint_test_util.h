// Helpers of the checkpoint tests (safetensors, npy): where the golden files are, files as
// bytes, little-endian integers, and the exact comparison of two tensors.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "graft/graft.h"
#include "temp_files.h"  // Bytes, TempDir, write_file

namespace graft::testing {

// A file written by tests/io/golden/make_golden.py with Python's safetensors / NumPy.
inline std::filesystem::path golden(const std::string& name) {
  return std::filesystem::path(GRAFT_GOLDEN_DIR) / name;
}

inline Bytes read_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  return Bytes(std::istreambuf_iterator<char>(file), {});
}

// `value`'s low `nbytes` bytes, least significant first; bytes past the eighth are zero
// (a run of zeroed fields written at once).
inline void append_little_endian(Bytes& out, uint64_t value, int nbytes) {
  for (int i = 0; i < nbytes; ++i)
    out.push_back(i < 8 ? static_cast<uint8_t>(value >> (8 * i)) : uint8_t{0});
}

inline void append_text(Bytes& out, const std::string& text) {
  out.insert(out.end(), text.begin(), text.end());
}

// A float16 (T = Half) or bfloat16 (T = BFloat16) tensor of the given bit patterns.
template <class T>
Tensor from_bits(const std::vector<uint16_t>& bits, const Shape& shape) {
  std::vector<T> values;
  for (uint16_t b : bits) values.push_back(T::from_bits(b));
  return tensor(values).reshape(shape);
}

// Same dtype, shape and element bytes (bytes, so that NaN and -0.0 count as themselves).
inline void expect_identical(const Tensor& got, const Tensor& want) {
  ASSERT_EQ(got.dtype(), want.dtype());
  ASSERT_EQ(got.shape(), want.shape());
  const Tensor a = got.cpu().contiguous();
  const Tensor b = want.cpu().contiguous();
  if (a.nbytes() > 0) {
    EXPECT_EQ(std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<size_t>(a.nbytes())), 0);
  }
}

}  // namespace graft::testing
