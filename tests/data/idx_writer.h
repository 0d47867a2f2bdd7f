// Test helpers for the IDX tests: IDX files written byte by byte (independently of the
// reader under test), and gzip through zlib.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "deflate_bytes.h"
#include "temp_files.h"  // Bytes, TempDir, write_file

namespace graft::testing {

// `value` as its bytes, most significant first (IDX is big-endian).
template <class T>
void append_big_endian(Bytes& out, T value) {
  using Bits = std::conditional_t<
      sizeof(T) == 1, uint8_t,
      std::conditional_t<sizeof(T) == 2, uint16_t,
                         std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
  const auto bits = std::bit_cast<Bits>(value);
  for (int shift = 8 * (static_cast<int>(sizeof(T)) - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(bits >> shift));
  }
}

// A header: 0x00 0x00, the type code, the number of dims, then each dim big-endian.
inline Bytes idx_header(uint8_t type_code, const std::vector<uint32_t>& dims) {
  Bytes out = {0x00, 0x00, type_code, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) append_big_endian(out, d);
  return out;
}

// A whole IDX file of the C++ type T's values.
template <class T>
Bytes idx_bytes(uint8_t type_code, const std::vector<uint32_t>& dims,
                const std::vector<T>& values) {
  Bytes out = idx_header(type_code, dims);
  for (T v : values) append_big_endian(out, v);
  return out;
}

// `bytes` as one gzip member (zlib's deflate with the gzip wrapper, windowBits 15 + 16).
inline Bytes gzip(const Bytes& bytes) { return deflate_bytes(bytes, 15 + 16, Z_BEST_COMPRESSION); }

}  // namespace graft::testing
