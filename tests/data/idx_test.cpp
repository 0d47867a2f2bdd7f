// IdxFile: IDX files of every element type read back exactly, plain or gzip; every way a
// header or a gzip stream can be wrong is a graft::Error naming the file and the problem.
#include "graft/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numbers>
#include <optional>

#include "data/idx_writer.h"
#include "graft/graft.h"
#include "peak_memory.h"
#include "test_util.h"

namespace g = graft;
using g::testing::Bytes;
using g::testing::error_message;
using g::testing::gzip;
using g::testing::idx_bytes;
using g::testing::idx_header;
using g::testing::TempDir;
using g::testing::write_file;
using testing::HasSubstr;

namespace {

// The message IdxFile throws for a file holding exactly `bytes`.
std::string message_for(const TempDir& dir, const Bytes& bytes, const std::string& name = "f.idx") {
  write_file(dir / name, bytes);
  return error_message([&] { g::data::IdxFile file(dir / name); });
}

}  // namespace

TEST(IdxFile, ReadsUint8ImagesAsUint8WithTheirDims) {
  TempDir dir;
  const std::vector<uint8_t> pixels = {0, 1, 2, 127, 128, 255};
  write_file(dir / "images.idx", idx_bytes<uint8_t>(0x08, {1, 2, 3}, pixels));
  g::data::IdxFile file(dir / "images.idx");
  EXPECT_EQ(file.path(), dir / "images.idx");
  EXPECT_EQ(file.type_code(), 0x08);
  EXPECT_EQ(file.tensor().dtype(), g::kUInt8);
  EXPECT_EQ(file.tensor().shape(), g::Shape({1, 2, 3}));
  EXPECT_TRUE(file.tensor().is_contiguous());
  EXPECT_EQ(file.tensor().to_vector<uint8_t>(), pixels);
}

TEST(IdxFile, DecodesBigEndianBytesOfEveryType) {
  // Hand-written bytes, most significant first, and the values they spell.
  struct Case {
    uint8_t code;
    Bytes data;
    g::DType dtype;
    double value;
  };
  const Case cases[] = {
      {0x08, {0xFE}, g::kUInt8, 254},
      {0x09, {0xFE}, g::kInt32, -2},                       // int8, widened
      {0x0B, {0x80, 0x01}, g::kInt32, -32767},             // int16, widened
      {0x0C, {0xFF, 0xFF, 0xFF, 0xFE}, g::kInt32, -2},     // int32
      {0x0D, {0x3F, 0xC0, 0x00, 0x00}, g::kFloat32, 1.5},  // float32 1.5
      {0x0E,
       {0xC0, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18},
       g::kFloat64,
       -std::numbers::pi},  // float64
  };
  TempDir dir;
  for (const Case& c : cases) {
    Bytes bytes = idx_header(c.code, {1});
    bytes.insert(bytes.end(), c.data.begin(), c.data.end());
    write_file(dir / "one.idx", bytes);
    const g::Tensor t = g::data::read_idx(dir / "one.idx");
    EXPECT_EQ(t.dtype(), c.dtype) << "type code " << int{c.code};
    EXPECT_EQ(t.shape(), g::Shape({1}));
    EXPECT_EQ(t.to_vector<double>()[0], c.value) << "type code " << int{c.code};
  }
}

TEST(IdxFile, RoundTripsEveryTypePlainAndGzip) {
  TempDir dir;
  const std::vector<uint32_t> dims = {2, 3};
  // Extremes of each type: sign bits and every byte position matter.
  const std::vector<int8_t> i8 = {-128, -1, 0, 1, 100, 127};
  const std::vector<int16_t> i16 = {-32768, -12345, -1, 0, 258, 32767};
  const std::vector<int32_t> i32 = {
      std::numeric_limits<int32_t>::min(), -123456789, -1, 0, 16909060,
      std::numeric_limits<int32_t>::max()};
  const std::vector<float> f32 = {-1.5f, 0.0f, 1e-30f, 3.25e10f, -0.0f, 0.1f};
  const std::vector<double> f64 = {-std::numbers::pi, 0.0, 1e-300, 6.02214076e23, -2.5, 0.1};
  for (const bool compressed : {false, true}) {
    const auto write = [&](const std::string& name, const Bytes& bytes) {
      write_file(dir / name, compressed ? gzip(bytes) : bytes);
      return g::data::read_idx(dir / name);
    };
    SCOPED_TRACE(compressed ? "gzip" : "plain");
    const auto as_doubles = [](const auto& values) {
      return std::vector<double>(values.begin(), values.end());
    };
    EXPECT_EQ(write("i8", idx_bytes(0x09, dims, i8)).to_vector<double>(), as_doubles(i8));
    EXPECT_EQ(write("i16", idx_bytes(0x0B, dims, i16)).to_vector<double>(), as_doubles(i16));
    EXPECT_EQ(write("i32", idx_bytes(0x0C, dims, i32)).to_vector<int32_t>(), i32);
    EXPECT_EQ(write("f32", idx_bytes(0x0D, dims, f32)).to_vector<float>(), f32);
    const g::Tensor t64 = write("f64", idx_bytes(0x0E, dims, f64));
    EXPECT_EQ(t64.to_vector<double>(), f64);
    EXPECT_EQ(t64.shape(), g::Shape({2, 3}));
  }
}

TEST(IdxFile, GzipIsRecognisedByItsBytesNotItsName) {
  TempDir dir;
  const Bytes plain = idx_bytes<uint8_t>(0x08, {3}, {7, 8, 9});
  write_file(dir / "plain.gz", plain);
  write_file(dir / "packed.idx", gzip(plain));
  EXPECT_EQ(g::data::read_idx(dir / "plain.gz").to_vector<int>(), (std::vector<int>{7, 8, 9}));
  EXPECT_EQ(g::data::read_idx(dir / "packed.idx").to_vector<int>(), (std::vector<int>{7, 8, 9}));
}

TEST(IdxFile, ReadsConcatenatedGzipMembersAsGunzipDoes) {
  TempDir dir;
  const Bytes plain = idx_bytes<uint8_t>(0x08, {4}, {1, 2, 3, 4});
  const Bytes head(plain.begin(), plain.begin() + 6), tail(plain.begin() + 6, plain.end());
  Bytes both = gzip(head);
  const Bytes second = gzip(tail);
  both.insert(both.end(), second.begin(), second.end());
  write_file(dir / "two.gz", both);
  EXPECT_EQ(g::data::read_idx(dir / "two.gz").to_vector<int>(), (std::vector<int>{1, 2, 3, 4}));
}

TEST(IdxFile, ZeroSizedDimGivesAnEmptyTensor) {
  TempDir dir;
  write_file(dir / "empty.idx", idx_header(0x0D, {0, 5}));
  const g::Tensor t = g::data::read_idx(dir / "empty.idx");
  EXPECT_EQ(t.shape(), g::Shape({0, 5}));
  EXPECT_EQ(t.dtype(), g::kFloat32);
}

TEST(IdxFile, MissingFileOrFolderIsAnError) {
  TempDir dir;
  const std::string missing = error_message([&] { g::data::IdxFile f(dir / "nope.idx"); });
  EXPECT_THAT(missing, HasSubstr((dir / "nope.idx").string()));
  EXPECT_THAT(missing, HasSubstr("cannot open the file: No such file or directory"));
  EXPECT_THAT(error_message([&] { g::data::IdxFile f(dir.path()); }),
              HasSubstr("is a directory, not an IDX file"));
}

TEST(IdxFile, ShortOrBadMagicIsAnError) {
  TempDir dir;
  EXPECT_THAT(message_for(dir, {}), HasSubstr("truncated header: the file has 0 bytes"));
  EXPECT_THAT(message_for(dir, {0x00, 0x00, 0x08}), HasSubstr("the file has 3 bytes"));
  const std::string bad = message_for(dir, {0x01, 0x00, 0x08, 0x01, 0, 0, 0, 0});
  EXPECT_THAT(bad, HasSubstr((dir / "f.idx").string()));
  EXPECT_THAT(bad, HasSubstr("bad magic number 0x01 0x00 0x08 0x01"));
  EXPECT_THAT(message_for(dir, {'P', '5', '\n', '2'}), HasSubstr("this is not an IDX file"));
}

TEST(IdxFile, UnknownTypeCodeIsAnError) {
  TempDir dir;
  for (const uint8_t code : {0x00, 0x07, 0x0A, 0x0F, 0xFF}) {
    const std::string message = message_for(dir, idx_header(code, {1}));
    EXPECT_THAT(message, HasSubstr("unknown element type code"));
    EXPECT_THAT(message, HasSubstr("IDX knows 0x08 uint8"));
  }
  EXPECT_THAT(message_for(dir, idx_header(0x0A, {1})), HasSubstr("code 0x0A"));
}

TEST(IdxFile, DimCountOutsideOneToEightIsAnError) {
  TempDir dir;
  EXPECT_THAT(message_for(dir, {0, 0, 0x08, 0}), HasSubstr("the header says 0 dims"));
  const std::string nine = message_for(dir, idx_header(0x08, std::vector<uint32_t>(9, 1)));
  EXPECT_THAT(nine, HasSubstr("the header says 9 dims"));
  EXPECT_THAT(nine, HasSubstr("1 to 8 dims"));
}

TEST(IdxFile, HeaderShorterThanItsDimsIsAnError) {
  TempDir dir;
  Bytes bytes = idx_header(0x08, {60000, 28, 28});
  bytes.resize(10);  // two and a half of the twelve bytes of dims
  EXPECT_THAT(
      message_for(dir, bytes),
      HasSubstr("truncated header: 3 dims need a header of 16 bytes, the file has only 10"));
}

TEST(IdxFile, DimsWhoseByteCountOverflowsAreAnError) {
  TempDir dir;
  // 0xFFFFFFFF^3 * 8 bytes is about 2^99: it must not wrap around to a small size.
  const std::string message =
      message_for(dir, idx_header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
  EXPECT_THAT(message, HasSubstr("dims (4294967295, 4294967295, 4294967295) of float64"));
  EXPECT_THAT(message, HasSubstr("more bytes than 64 bits can count"));
}

// Found by fuzzing: a zero dim made the overflow check blind to the dims after it, and the
// strides of the (empty) tensor then overflowed.
TEST(IdxFile, DimsAfterAZeroDimMustStillFitIn64Bits) {
  TempDir dir;
  const std::string message = message_for(dir, idx_header(0x08, {0, 3640655874, 2952986624}));
  EXPECT_THAT(message, HasSubstr("dims (0, 3640655874, 2952986624) of uint8 describe more bytes "
                                 "than 64 bits can count"));
}

TEST(IdxFile, DimsLargerThanTheFileAreAnError) {
  TempDir dir;
  Bytes bytes = idx_header(0x08, {60000, 28, 28});
  bytes.resize(bytes.size() + 10);
  const std::string message = message_for(dir, bytes);
  EXPECT_THAT(message, HasSubstr("truncated data: dims (60000, 28, 28) of uint8 need 47040000 "
                                 "bytes after the 16-byte header, the file has only 10"));
}

TEST(IdxFile, DataOneElementShortIsAnError) {
  TempDir dir;
  Bytes bytes = idx_bytes<int32_t>(0x0C, {2, 3}, {1, 2, 3, 4, 5, 6});
  bytes.resize(bytes.size() - 1);
  EXPECT_THAT(message_for(dir, bytes), HasSubstr("need 24 bytes after the 12-byte header, the "
                                                 "file has only 23"));
}

TEST(IdxFile, TrailingGarbageIsAnError) {
  TempDir dir;
  Bytes bytes = idx_bytes<uint8_t>(0x08, {2}, {1, 2});
  bytes.insert(bytes.end(), {0xAA, 0xBB, 0xCC});
  EXPECT_THAT(message_for(dir, bytes),
              HasSubstr("3 bytes of trailing garbage after the 2 bytes of data that dims (2,) "
                        "of uint8 describe"));
}

TEST(IdxFile, HeaderErrorsInsideGzipSayTheDecompressedFile) {
  TempDir dir;
  Bytes bytes = idx_bytes<uint8_t>(0x08, {4}, {1, 2, 3, 4});
  bytes.pop_back();
  EXPECT_THAT(message_for(dir, gzip(bytes), "f.gz"), HasSubstr("the decompressed file has only 3"));
}

TEST(IdxFile, TruncatedGzipIsAnError) {
  TempDir dir;
  Bytes packed = gzip(idx_bytes<uint8_t>(0x08, {100}, std::vector<uint8_t>(100, 5)));
  packed.resize(packed.size() - 6);  // cut into the CRC and size trailer
  const std::string message = message_for(dir, packed, "f.gz");
  EXPECT_THAT(message, HasSubstr((dir / "f.gz").string()));
  EXPECT_THAT(message, HasSubstr("truncated gzip file"));
  EXPECT_THAT(message_for(dir, {0x1f, 0x8b}, "f.gz"), HasSubstr("truncated gzip file"));
}

TEST(IdxFile, CorruptGzipIsAnError) {
  TempDir dir;
  const Bytes plain = idx_bytes<uint8_t>(0x08, {100}, std::vector<uint8_t>(100, 5));
  Bytes bad_block = gzip(plain);
  bad_block[10] = 0xFF;  // the first deflate block header: type 3 does not exist
  EXPECT_THAT(message_for(dir, bad_block, "f.gz"),
              HasSubstr("corrupt gzip file: zlib says 'invalid block type'"));
  Bytes bad_crc = gzip(plain);
  bad_crc[bad_crc.size() - 8] ^= 0x01;  // the CRC-32 of the data
  EXPECT_THAT(message_for(dir, bad_crc, "f.gz"),
              HasSubstr("corrupt gzip file: zlib says 'incorrect data check'"));
}

// Found by fuzzing: junk behind the gzip magic with a forged size trailer (0xffffffff) made
// the reader allocate and zero gigabytes, sized from the trailer, before finding the stream
// corrupt. Peak memory must stay within a small multiple of the file's size.
TEST(IdxFile, AForgedGzipSizeTrailerCannotAskForGigabytes) {
  TempDir dir;
  Bytes junk(4 << 20);
  uint32_t state = 12345;
  for (uint8_t& byte : junk)
    byte = static_cast<uint8_t>((state = state * 1664525 + 1013904223) >> 24);
  const uint8_t gzip_header[] = {0x1f, 0x8b, 0x08, 0x00};  // gzip magic, deflate, no flags
  std::copy(std::begin(gzip_header), std::end(gzip_header), junk.begin());
  std::fill(junk.end() - 4, junk.end(), 0xff);
  write_file(dir / "junk.gz", junk);
  const std::optional<int64_t> growth = g::testing::peak_memory_growth(
      [&] { EXPECT_THROW(g::data::IdxFile(dir / "junk.gz"), g::Error); });
  if (!growth) GTEST_SKIP() << "this system does not report peak memory (/proc/self/clear_refs)";
  EXPECT_LT(*growth, 16 * int64_t{4 << 20}) << "peak memory grew by " << *growth << " bytes";
}

TEST(IdxFile, GarbageAfterTheGzipStreamIsAnError) {
  TempDir dir;
  Bytes packed = gzip(idx_bytes<uint8_t>(0x08, {2}, {1, 2}));
  packed.insert(packed.end(), {'j', 'u', 'n', 'k'});
  EXPECT_THAT(message_for(dir, packed, "f.gz"),
              HasSubstr("corrupt gzip file: 4 bytes of trailing garbage after the compressed "
                        "stream"));
}
