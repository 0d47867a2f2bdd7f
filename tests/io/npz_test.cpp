// graft::save_npz / save_npz_compressed / load_npz: NumPy's archives read exactly (np.savez
// and np.savez_compressed, ZIP64 local headers), round trips of every dtype stored and
// deflated, the name rules, the atomic write, and one rejection per way an archive or a
// member can be malformed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <optional>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "deflate_bytes.h"
#include "io/checkpoint_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::testing::append_little_endian;
using g::testing::append_text;
using g::testing::Bytes;
using g::testing::deflate_bytes;
using g::testing::error_message;
using g::testing::expect_identical;
using g::testing::golden;
using g::testing::make_tensor;
using g::testing::read_bytes;
using g::testing::TempDir;
using g::testing::write_file;
using ::testing::HasSubstr;

namespace {

constexpr g::DType kDTypes[] = {g::kBool,  g::kUInt8,   g::kInt32,
                                g::kInt64, g::kFloat32, g::kFloat64};

void expect_same_arrays(const g::NamedTensors& got, const g::NamedTensors& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(want[i].first);
    EXPECT_EQ(got[i].first, want[i].first);
    expect_identical(got[i].second, want[i].second);
  }
}

// ---- files written by NumPy (tests/io/golden/make_golden_npz.py)

TEST(Npz, ReadsWhatNpSavezAndSavezCompressedWrite) {
  // np.arange(6).reshape(2, 3) in Fortran order: the bytes run 0 3 1 4 2 5, the values
  // are still [[0, 1, 2], [3, 4, 5]].
  const g::NamedTensors want = {
      {"f64", make_tensor({1.0 / 3.0, -1e300, 2.5, 0.0, -0.0, 7.0}, {2, 3})},
      {"i64", make_tensor({-4611686018427387904.0, 5, 1099511627776.0}, {3}, g::kInt64)},
      {"i32", make_tensor({-2147483648.0, 0, 2147483647}, {3}, g::kInt32)},
      {"u8", make_tensor({0, 7, 255}, {3}, g::kUInt8)},
      {"mask", make_tensor({1, 0, 0, 1}, {2, 2}, g::kBool)},
      {"scalar", make_tensor({-0.25}, {})},
      {"empty", make_tensor({}, {0, 4}, g::kInt64)},
      {"fortran", make_tensor({0, 1, 2, 3, 4, 5}, {2, 3}, g::kFloat32)},
      {"encoder/w", make_tensor({1, 2}, {1, 2}, g::kInt32)},
      {"arr_0", make_tensor({1.5, -2.0, 3.25}, {3}, g::kFloat32)},
  };
  for (const char* name : {"savez.npz", "savez_compressed.npz"}) {
    SCOPED_TRACE(name);
    const g::NamedTensors got = g::load_npz(golden(name));
    expect_same_arrays(got, want);
    for (const auto& [array_name, tensor] : got) EXPECT_TRUE(tensor.is_contiguous());
  }
}

// ---- what graft writes

g::NamedTensors every_dtype_and_shape() {
  g::NamedTensors arrays;
  for (g::DType dtype : kDTypes) {
    for (const g::Shape& shape : {g::Shape{}, g::Shape{0}, g::Shape{5}, g::Shape{2, 3, 4}}) {
      arrays.emplace_back(
          g::dtype_name(dtype) + shape.str(),
          make_tensor(g::testing::sample_values(shape.numel(), 0, 250), shape, dtype));
    }
  }
  // Larger than the reader's 64 KiB chunks: random doubles barely compress, and zeros
  // compress about 1000:1, near deflate's limit of 1032:1.
  arrays.emplace_back("noise", make_tensor(g::testing::sample_values(50000), {50000}));
  arrays.emplace_back("zeros", g::zeros({1 << 20}, g::kFloat32));
  return arrays;
}

TEST(Npz, RoundTripsEveryDTypeAndShapeStoredAndDeflated) {
  TempDir dir;
  const g::NamedTensors arrays = every_dtype_and_shape();
  g::save_npz(arrays, dir / "stored.npz");
  expect_same_arrays(g::load_npz(dir / "stored.npz"), arrays);
  g::save_npz_compressed(arrays, dir / "deflated.npz");
  expect_same_arrays(g::load_npz(dir / "deflated.npz"), arrays);
  EXPECT_LT(read_bytes(dir / "deflated.npz").size(), read_bytes(dir / "stored.npz").size() / 4);
}

TEST(Npz, KeepsTheOrderAndTakesAStateDict) {
  TempDir dir;
  const g::NamedTensors arrays = {{"z", make_tensor({1}, {1})}, {"a", make_tensor({2}, {1})}};
  g::save_npz(arrays, dir / "x.npz");
  expect_same_arrays(g::load_npz(dir / "x.npz"), arrays);

  g::save_npz_compressed({}, dir / "x.npz");
  EXPECT_TRUE(g::load_npz(dir / "x.npz").empty());

  const g::StateDict state = {{"b", make_tensor({3}, {1})}, {"a", make_tensor({4}, {1})}};
  g::save_npz(g::NamedTensors(state.begin(), state.end()), dir / "x.npz");
  expect_same_arrays(g::load_npz(dir / "x.npz"),
                     {{"a", make_tensor({4}, {1})}, {"b", make_tensor({3}, {1})}});
}

TEST(Npz, WritesNonContiguousViewsInRowMajorOrder) {
  TempDir dir;
  const g::Tensor base = make_tensor({0, 1, 2, 3, 4, 5}, {2, 3}, g::kInt64);
  g::save_npz_compressed({{"t", base.t()}}, dir / "x.npz");
  expect_same_arrays(g::load_npz(dir / "x.npz"),
                     {{"t", make_tensor({0, 3, 1, 4, 2, 5}, {3, 2}, g::kInt64)}});
}

TEST(Npz, CopiesCudaTensorsToTheHost) {
  GRAFT_REQUIRE_CUDA();
  TempDir dir;
  const g::Tensor host = make_tensor(g::testing::sample_values(6), {2, 3});
  g::save_npz({{"x", host.cuda()}}, dir / "x.npz");
  expect_same_arrays(g::load_npz(dir / "x.npz"), {{"x", host}});
}

TEST(Npz, WritesTheSameFileForTheSameArrays) {
  TempDir dir;
  const g::NamedTensors arrays = {{"x", make_tensor({1, 2}, {2})}};
  g::save_npz_compressed(arrays, dir / "a.npz");
  g::save_npz_compressed(arrays, dir / "b.npz");
  EXPECT_EQ(read_bytes(dir / "a.npz"), read_bytes(dir / "b.npz"));
}

TEST(Npz, NamesArePathsThatStayInsideAFolder) {
  TempDir dir;
  const g::NamedTensors fine = {{"encoder/layer.0/w", make_tensor({1}, {1})},
                                {"caf\xc3\xa9", make_tensor({2}, {1})},
                                {"..x", make_tensor({3}, {1})}};
  g::save_npz(fine, dir / "x.npz");
  expect_same_arrays(g::load_npz(dir / "x.npz"), fine);

  const g::Tensor t = make_tensor({1}, {1});
  const struct {
    std::string name;
    std::string message;
  } cases[] = {
      {"", "an array name is empty"},
      {std::string("a\0b", 3), "the array name \"a\\0...\" holds a NUL byte"},
      {std::string(65532, 'a'), "an array name is 65532 bytes long; a zip archive allows 65531"},
      {"/w", "the array name \"/w\" is not a path that stays inside a folder"},
      {"w/", "the array name \"w/\" is not a path that stays inside a folder"},
      {"a//b", "the array name \"a//b\" is not a path that stays inside a folder"},
      {"../w", "the array name \"../w\" is not a path that stays inside a folder"},
      {"a/./b", "the array name \"a/./b\" is not a path that stays inside a folder"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_THAT(error_message([&] {
                  g::save_npz({{c.name, t}}, dir / "y.npz");
                }),
                HasSubstr("save_npz(): \"" + (dir / "y.npz").string() + "\": " + c.message));
  }
  EXPECT_THAT(error_message([&] {
                g::save_npz({{"w", t}, {"w", t}}, dir / "y.npz");
              }),
              HasSubstr("the array name \"w\" appears twice"));
  EXPECT_THAT(error_message([&] {
                g::save_npz_compressed({{"w", g::Tensor()}}, dir / "y.npz");
              }),
              HasSubstr("save_npz_compressed(): \"" + (dir / "y.npz").string() +
                        "\": the array \"w\" is undefined"));
  EXPECT_FALSE(std::filesystem::exists(dir / "y.npz"));
}

// ---- the atomic write

int files_in(const TempDir& dir) {
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  return files;
}

TEST(Npz, SaveReplacesAnExistingFileAndLeavesNoTemporaryFile) {
  TempDir dir;
  g::save_npz({{"old", make_tensor({1}, {1})}}, dir / "x.npz");
  g::save_npz_compressed({{"new", make_tensor({2}, {1})}}, dir / "x.npz");
  expect_same_arrays(g::load_npz(dir / "x.npz"), {{"new", make_tensor({2}, {1})}});
  EXPECT_EQ(files_in(dir), 1);
}

TEST(Npz, AFailedSaveLeavesTheOldFileUntouched) {
  TempDir dir;
  g::save_npz({{"old", make_tensor({1}, {1})}}, dir / "x.npz");
  const Bytes before = read_bytes(dir / "x.npz");
  EXPECT_THAT(error_message([&] {
                g::save_npz({{"new", make_tensor({2}, {1})}, {"bad", g::Tensor()}}, dir / "x.npz");
              }),
              HasSubstr("the array \"bad\" is undefined"));
  EXPECT_EQ(read_bytes(dir / "x.npz"), before);
  EXPECT_THAT(error_message([&] { g::save_npz({}, dir / "no" / "x.npz"); }),
              HasSubstr("cannot create the temporary file"));
  EXPECT_EQ(files_in(dir), 1);
}

// ---- malformed archives

// A zip archive in the classic layout (no ZIP64), built here field by field so that each
// field can lie.
struct TestMember {
  std::string name;
  Bytes data;  // as stored in the archive: raw, or raw deflate
  uint16_t method = 0;
  uint32_t crc = 0;
  uint32_t size = 0;
  uint16_t flags = 0;
  std::optional<uint32_t> offset = std::nullopt;  // a central entry pointing at this offset,
                                                  // with no local header of its own
};

uint32_t crc_of(const Bytes& bytes) {
  return static_cast<uint32_t>(crc32(0, bytes.data(), static_cast<uInt>(bytes.size())));
}

// A raw deflate stream (no zlib or gzip wrapper), as zip members hold.
Bytes deflate_raw(const Bytes& bytes) {
  return deflate_bytes(bytes, -MAX_WBITS, Z_DEFAULT_COMPRESSION);
}

TestMember stored(const std::string& name, const Bytes& content) {
  return {name, content, 0, crc_of(content), static_cast<uint32_t>(content.size())};
}

TestMember deflated(const std::string& name, const Bytes& content) {
  return {name, deflate_raw(content), 8, crc_of(content), static_cast<uint32_t>(content.size())};
}

void append_common(Bytes& out, const TestMember& m) {
  append_little_endian(out, 20, 2);  // version needed
  append_little_endian(out, m.flags, 2);
  append_little_endian(out, m.method, 2);
  append_little_endian(out, 0, 4);  // time and date
  append_little_endian(out, m.crc, 4);
  append_little_endian(out, m.data.size(), 4);
  append_little_endian(out, m.size, 4);
  append_little_endian(out, m.name.size(), 2);
}

Bytes zip_archive(const std::vector<TestMember>& members) {
  Bytes out;
  std::vector<uint64_t> offsets;
  for (const TestMember& m : members) {
    offsets.push_back(m.offset.value_or(out.size()));
    if (m.offset) continue;
    append_little_endian(out, 0x04034b50, 4);
    append_common(out, m);
    append_little_endian(out, 0, 2);  // extra
    append_text(out, m.name);
    out.insert(out.end(), m.data.begin(), m.data.end());
  }
  const uint64_t directory = out.size();
  for (size_t i = 0; i < members.size(); ++i) {
    append_little_endian(out, 0x02014b50, 4);
    append_little_endian(out, 20, 2);  // version made by
    append_common(out, members[i]);
    append_little_endian(out, 0, 2 + 2 + 2 + 2 + 4);  // extra, comment, disk, attributes
    append_little_endian(out, offsets[i], 4);
    append_text(out, members[i].name);
  }
  append_little_endian(out, 0x06054b50, 4);
  append_little_endian(out, 0, 4);  // disks
  append_little_endian(out, members.size(), 2);
  append_little_endian(out, members.size(), 2);
  append_little_endian(out, out.size() - directory - 12, 4);
  append_little_endian(out, directory, 4);
  append_little_endian(out, 0, 2);  // comment
  return out;
}

// The .npy bytes of a small float32 array, as save_npy writes them.
Bytes npy_of(const g::Tensor& t) {
  TempDir dir;
  g::save_npy(t, dir / "x.npy");
  return read_bytes(dir / "x.npy");
}

std::string load_error(const Bytes& bytes) {
  TempDir dir;
  write_file(dir / "bad.npz", bytes);
  const std::string message = error_message([&] { g::load_npz(dir / "bad.npz"); });
  EXPECT_THAT(message, HasSubstr("load_npz(): \"" + (dir / "bad.npz").string() + "\": "));
  return message;
}

// A 144-byte .npy member: 128 bytes of header, then 4 float32s.
const Bytes& small_npy() {
  static const Bytes bytes = npy_of(make_tensor({1, 2, 3, 4}, {4}, g::kFloat32));
  return bytes;
}

TEST(NpzMalformed, TheTestArchivesAreValid) {
  TempDir dir;
  write_file(dir / "x.npz",
             zip_archive({stored("a.npy", small_npy()), deflated("b.npy", small_npy())}));
  const g::Tensor want = make_tensor({1, 2, 3, 4}, {4}, g::kFloat32);
  expect_same_arrays(g::load_npz(dir / "x.npz"), {{"a", want}, {"b", want}});
}

TEST(NpzMalformed, EveryTruncationIsAnError) {
  TempDir dir;
  g::save_npz_compressed({{"x", make_tensor({1, 2, 3}, {3})}}, dir / "x.npz");
  const Bytes whole = read_bytes(dir / "x.npz");
  for (size_t size = 0; size < whole.size(); ++size) {
    SCOPED_TRACE(size);
    load_error(Bytes(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(size)));
  }
  EXPECT_THAT(load_error(Bytes(whole.begin(), whole.begin() + 10)),
              HasSubstr("not a zip archive: it is 10 bytes long, shorter than a zip end record"));
  EXPECT_THAT(load_error(Bytes(whole.begin(), whole.end() - 1)),
              HasSubstr("no end of central directory record in its last"));
}

TEST(NpzMalformed, TheEndRecords) {
  Bytes bytes = zip_archive({stored("a.npy", small_npy())});
  bytes[bytes.size() - 22 + 4] = 1;  // this disk
  EXPECT_THAT(load_error(bytes), HasSubstr("the archive spans several disks"));
  bytes = zip_archive({stored("a.npy", small_npy())});
  bytes[bytes.size() - 22 + 16] += 1;  // the directory's offset
  EXPECT_THAT(load_error(bytes), HasSubstr("does not end where the end records start"));
  bytes = zip_archive({stored("a.npy", small_npy())});
  bytes[bytes.size() - 22 + 10] = 200;
  bytes[bytes.size() - 22 + 8] = 200;
  EXPECT_THAT(load_error(bytes), HasSubstr("the end record counts 200 members, more than a "
                                           "central directory of 51 bytes holds"));
}

TEST(NpzMalformed, TheZip64EndRecordsGraftWrites) {
  TempDir dir;
  g::save_npz({{"x", make_tensor({1}, {1})}}, dir / "x.npz");
  const Bytes whole = read_bytes(dir / "x.npz");
  const size_t locator = whole.size() - 22 - 20;
  const size_t zip64_end = locator - 56;
  Bytes bytes = whole;
  bytes[locator + 16] = 2;  // disks in all
  EXPECT_THAT(load_error(bytes), HasSubstr("the archive spans several disks"));
  bytes = whole;
  bytes[locator + 8] += 1;  // the ZIP64 end record's offset
  EXPECT_THAT(load_error(bytes), HasSubstr("where no ZIP64 end record fits before the locator"));
  bytes = whole;
  bytes[locator + 8] -= 1;
  EXPECT_THAT(load_error(bytes), HasSubstr("no ZIP64 end record at offset"));
  bytes = whole;
  bytes[zip64_end + 4] += 1;  // the record's size
  EXPECT_THAT(load_error(bytes), HasSubstr("says it is 57 bytes long, but the locator follows 56"));
  bytes = whole;
  bytes[zip64_end + 32] = 2;  // members in all
  EXPECT_THAT(load_error(bytes), HasSubstr("the archive spans several disks"));
  bytes = whole;
  for (size_t count : {8, 10}) {  // the classic record's counts: neither 0xFFFF nor 1
    bytes[whole.size() - 22 + count] = 3;
    bytes[whole.size() - 22 + count + 1] = 0;
  }
  EXPECT_THAT(load_error(bytes), HasSubstr("the end record and the ZIP64 end record disagree"));
}

TEST(NpzMalformed, CentralDirectoryEntries) {
  TestMember bad = stored("a.npy", small_npy());
  bad.method = 12;
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("member \"a.npy\": compression method 12 is not supported (graft reads "
                        "0, stored, and 8, deflate"));
  bad = stored("a.npy", small_npy());
  bad.flags = 1;
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("member \"a.npy\": the member is encrypted, which graft does not read"));
  EXPECT_THAT(
      load_error(zip_archive({stored("a.npy", small_npy()), deflated("a.npy", small_npy())})),
      HasSubstr("member \"a.npy\": the name appears twice"));
  Bytes bytes = zip_archive({stored("a.npy", small_npy())});
  bytes[30 + 5 + small_npy().size() + 2] = 9;  // the central entry's signature, PK\1\2
  EXPECT_THAT(load_error(bytes),
              HasSubstr("entry 0 of the central directory does not start with its signature"));
}

TEST(NpzMalformed, LyingSizes) {
  TestMember bad = stored("a.npy", small_npy());
  bad.size += 1;
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("the member is stored, yet its size 145 differs from its compressed size "
                        "144"));
  bad = deflated("a.npy", small_npy());
  bad.size = 0xFFFFFFF0;
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("its size is 4294967280 bytes, more than deflate can expand"));
  // A central entry whose local header is not where it says.
  bad = stored("b.npy", small_npy());
  bad.offset = 1;
  EXPECT_THAT(load_error(zip_archive({stored("a.npy", small_npy()), bad})),
              HasSubstr("member \"b.npy\": no local header at offset 1"));
}

TEST(NpzMalformed, LocalHeaderAgainstCentralEntry) {
  const Bytes good = zip_archive({stored("a.npy", small_npy())});
  Bytes bytes = good;
  bytes[30] = 'b';  // the local header's name
  EXPECT_THAT(load_error(bytes), HasSubstr("the local header names it \"b.npy\""));
  bytes = good;
  bytes[14] ^= 1;  // the local header's CRC-32
  EXPECT_THAT(load_error(bytes),
              HasSubstr("the local header's CRC-32 or sizes differ from the central directory's"));
  bytes = good;
  bytes[6] = 2;  // the local header's flags
  EXPECT_THAT(load_error(bytes), HasSubstr("the local header's flags or method differ"));
}

TEST(NpzMalformed, OverlappingMembers) {
  // "b.npy" lies inside the stored data of "a.npy": a zip bomb's trick.
  const Bytes inner = zip_archive({stored("b.npy", small_npy())});
  const Bytes local_b(inner.begin(),
                      inner.begin() + 30 + 5 + static_cast<ptrdiff_t>(small_npy().size()));
  TestMember b = stored("b.npy", small_npy());
  b.offset = 30 + 5;
  EXPECT_THAT(load_error(zip_archive({stored("a.npy", local_b), b})),
              HasSubstr("members \"a.npy\" and \"b.npy\" overlap"));
}

TEST(NpzMalformed, BadCrc) {
  TestMember bad = stored("a.npy", small_npy());
  bad.crc ^= 1;
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("member \"a.npy\": the CRC-32 of the data is 0x"));
  bad = deflated("a.npy", small_npy());
  bad.crc ^= 1;
  EXPECT_THAT(load_error(zip_archive({bad})), HasSubstr("the member is corrupted"));
}

TEST(NpzMalformed, DeflateStreamsThatDisagreeWithTheSizes) {
  Bytes longer = small_npy();
  longer.resize(small_npy().size() + 8, 0);
  TestMember bad = deflated("a.npy", longer);
  bad.size = static_cast<uint32_t>(small_npy().size());
  bad.crc = crc_of(small_npy());
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("the deflate stream holds more than the member's size of 144 bytes"));

  bad = deflated("a.npy", Bytes(small_npy().begin(), small_npy().end() - 4));
  bad.size = static_cast<uint32_t>(small_npy().size());
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("the deflate stream ends after 140 bytes, short of the member's size of "
                        "144 bytes"));

  bad = deflated("a.npy", small_npy());
  bad.data.resize(bad.data.size() - 2);
  EXPECT_THAT(load_error(zip_archive({bad})), HasSubstr("the deflate stream is cut short"));

  bad = deflated("a.npy", small_npy());
  bad.data.insert(bad.data.end(), {1, 2, 3});
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("the deflate stream ends 3 bytes before the member's compressed size"));

  bad = deflated("a.npy", small_npy());
  bad.data[0] = 0xFF;  // block type 3, which does not exist
  EXPECT_THAT(load_error(zip_archive({bad})),
              HasSubstr("the deflate data is corrupt (zlib: invalid block type)"));
}

TEST(NpzMalformed, MembersThatAreNotArrays) {
  EXPECT_THAT(load_error(zip_archive({stored("readme.txt", small_npy())})),
              HasSubstr("member \"readme.txt\": not a .npy file: graft reads .npz archives of "
                        ".npy members only"));
  EXPECT_THAT(load_error(zip_archive({stored("../a.npy", small_npy())})),
              HasSubstr("member \"../a.npy\": the array name \"../a\" is not a path"));
  EXPECT_THAT(load_error(zip_archive({stored("a.npy", Bytes{1, 2, 3})})),
              HasSubstr("member \"a.npy\": not a .npy file: it is 3 bytes long"));
  Bytes cut = small_npy();
  cut.resize(small_npy().size() - 4);
  EXPECT_THAT(load_error(zip_archive({deflated("a.npy", cut)})),
              HasSubstr("member \"a.npy\": the header says '<f4' of shape (4,), which is 16 "
                        "bytes, but 12 bytes follow the header (is the file truncated?)"));
  Bytes boolean = npy_of(make_tensor({1, 0}, {2}, g::kBool));
  boolean.back() = 7;
  EXPECT_THAT(load_error(zip_archive({stored("a.npy", boolean)})),
              HasSubstr("member \"a.npy\": the array is boolean but element 1 is the byte 7"));
}

}  // namespace
