// zlib's deflate over a whole buffer at once, for tests that write compressed files byte
// by byte: gzip members (IDX, windowBits 15 + 16) and raw deflate streams (.npz members,
// windowBits -15).
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include "temp_files.h"  // Bytes

namespace graft::testing {

inline Bytes deflate_bytes(const Bytes& bytes, int window_bits, int level) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(bytes.size())));
  zs.next_in = const_cast<Bytef*>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace graft::testing
