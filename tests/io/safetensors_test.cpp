// graft::save / graft::load / graft::load_metadata in the safetensors format: files written
// by Python's safetensors read exactly, the bytes graft writes, round trips of every dtype,
// the atomic write, and one rejection per way a file can be malformed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "graft/io/file_io.h"
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

constexpr g::DType kDTypes[] = {g::kBool,    g::kUInt8,    g::kInt32,   g::kInt64,
                                g::kFloat16, g::kBFloat16, g::kFloat32, g::kFloat64};

// ---- files written by Python (tests/io/golden/make_golden.py)

TEST(Safetensors, ReadsPythonsFileWithEveryDTypeExactly) {
  const g::StateDict tensors = g::load(golden("all_dtypes.safetensors"));
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("bool", "empty", "f32", "f64", "i32", "i64", "layer.0.weight",
                                 "scalar", "u8"));

  // Each value as make_golden.py spells it; float32 values are exact in binary (1e-3 is
  // compared after the same rounding to float).
  expect_identical(
      tensors.at("f32"),
      make_tensor({1.5, -2.0, 3.25, 0.0, -0.5, static_cast<float>(1e-3)}, {2, 3}, g::kFloat32));
  expect_identical(tensors.at("f64"), make_tensor({1.0 / 3.0, -1e300, 2.5}, {3}));
  expect_identical(tensors.at("i32"), make_tensor({-7, 2147483647, 0}, {3, 1}, g::kInt32));
  // -(2^62) and 2^40 are exact in a double, so make_tensor carries them unchanged.
  expect_identical(tensors.at("i64"),
                   make_tensor({-4611686018427387904.0, 5, 1099511627776.0}, {3}, g::kInt64));
  expect_identical(tensors.at("u8"), make_tensor({0, 1, 254, 255}, {4}, g::kUInt8));
  expect_identical(tensors.at("bool"), make_tensor({1, 0, 1}, {3}, g::kBool));
  expect_identical(tensors.at("scalar"), make_tensor({42}, {}, g::kFloat32));
  expect_identical(tensors.at("empty"), make_tensor({}, {0, 3}, g::kFloat32));
  expect_identical(tensors.at("layer.0.weight"), make_tensor({0, 1, 2, 3, 4, 5}, {2, 3}));
  for (const auto& [name, t] : tensors) {
    EXPECT_TRUE(t.is_cpu()) << name;
    EXPECT_TRUE(t.is_contiguous()) << name;
  }
}

TEST(Safetensors, ReadsPythonsFloat16AndBFloat16BitForBit) {
  const g::StateDict tensors = g::load(golden("half.safetensors"));
  // make_golden.py's values: 1.5, -2, 65504 (the largest), 2^-24 (the smallest subnormal),
  // -0, inf; and 1.5, -2, 2^-133 (the smallest subnormal), -0, -inf, 3e38 (rounded).
  expect_identical(tensors.at("f16"), g::testing::from_bits<g::Half>(
                                          {0x3e00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00}, {6}));
  expect_identical(
      tensors.at("bf16"),
      g::testing::from_bits<g::BFloat16>({0x3fc0, 0xc000, 0x0001, 0x8000, 0xff80, 0x7f62}, {2, 3}));
  EXPECT_EQ(tensors.at("f16").index({2}).item<float>(), 65504.0f);
  EXPECT_EQ(tensors.at("bf16").index({0, 2}).item<double>(), std::ldexp(1.0, -133));
}

TEST(Safetensors, ReadsPythonsMetadataWithEscapesAndUtf8) {
  EXPECT_EQ(g::load_metadata(golden("all_dtypes.safetensors")),
            (g::Metadata{{"note", "quote \" newline \n caf\xC3\xA9"}}));
}

TEST(Safetensors, ReadsAFileWithoutMetadataOrDataBytes) {
  // Python writes no "__metadata__" when given none, and an empty tensor has no bytes.
  EXPECT_TRUE(g::load_metadata(golden("only_empty.safetensors")).empty());
  const g::StateDict tensors = g::load(golden("only_empty.safetensors"));
  ASSERT_EQ(tensors.size(), 1u);
  expect_identical(tensors.at("nothing"), make_tensor({}, {2, 0}, g::kInt64));
}

// ---- what graft writes

TEST(Safetensors, WritesTheLayoutPythonReads) {
  TempDir dir;
  // "a" is uint8 and "b" float32: b goes first (largest element first keeps it aligned).
  g::save({{"a", make_tensor({1, 2, 3}, {3}, g::kUInt8)},
           {"b", make_tensor({1.0, -2.0}, {2}, g::kFloat32)}},
          dir / "x.safetensors");
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";
  Bytes want;
  append_little_endian(want, 144, 8);  // the JSON is 138 bytes, padded to 144
  append_text(want, json + "      ");
  append_little_endian(want, 0x3F800000, 4);  // 1.0f
  append_little_endian(want, 0xC0000000, 4);  // -2.0f
  for (uint8_t v : {1, 2, 3}) want.push_back(v);
  ASSERT_EQ(json.size(), 138u);
  EXPECT_EQ(read_bytes(dir / "x.safetensors"), want);
}

TEST(Safetensors, PadsTheHeaderToAMultipleOf8ForAnyNameLength) {
  TempDir dir;
  for (const std::string name :
       {"w", "ww", "www", "wwww", "wwwww", "wwwwww", "wwwwwww", "w8w8w8w8"}) {
    g::save({{name, make_tensor({1}, {1})}}, dir / "x.safetensors");
    const Bytes bytes = read_bytes(dir / "x.safetensors");
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = length * 256 + bytes[i];
    EXPECT_EQ(length % 8, 0u) << name;
    EXPECT_EQ(bytes.size(), 8 + length + 8) << name;
    // The JSON ends at the last '}'; what follows is fewer than 8 spaces.
    const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(length));
    const size_t end = header.rfind('}') + 1;
    EXPECT_LT(header.size() - end, 8u) << name;
    EXPECT_EQ(header.find_first_not_of(' ', end), std::string::npos) << name;
  }
}

TEST(Safetensors, RoundTripsEveryDTypeIncludingZeroDimAndEmpty) {
  TempDir dir;
  g::StateDict tensors;
  for (g::DType dtype : kDTypes) {
    const std::string name = g::dtype_name(dtype);
    // Values in [0, 250): every dtype holds them (uint8 included), bools are the non-zeros.
    tensors[name] = make_tensor(g::testing::sample_values(12, 0, 250), {3, 4}, dtype);
    tensors[name + ".scalar"] = make_tensor({7}, {}, dtype);
    tensors[name + ".empty"] = make_tensor({}, {2, 0, 5}, dtype);
  }
  g::save(tensors, dir / "all.safetensors");
  const g::StateDict loaded = g::load(dir / "all.safetensors");
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    expect_identical(loaded.at(name), t);
  }
}

TEST(Safetensors, RoundTripsSpecialFloatsBitForBit) {
  TempDir dir;
  const g::Tensor t = make_tensor({0.0, -0.0, 1e-310, INFINITY, -INFINITY, NAN, 1e308}, {7});
  g::save({{"t", t}}, dir / "x.safetensors");
  expect_identical(g::load(dir / "x.safetensors").at("t"), t);
}

TEST(Safetensors, WritesNonContiguousViewsAsTheirValuesInRowMajorOrder) {
  TempDir dir;
  const g::Tensor base = make_tensor({0, 1, 2, 3, 4, 5}, {2, 3}, g::kInt32);
  const g::Tensor transposed = base.t();                        // (3, 2): 0 3 / 1 4 / 2 5
  const g::Tensor strided = base.narrow(1, 0, 3).select(0, 1);  // offset view: 3 4 5
  g::save({{"t", transposed}, {"s", strided}}, dir / "x.safetensors");
  const g::StateDict loaded = g::load(dir / "x.safetensors");
  expect_identical(loaded.at("t"), make_tensor({0, 3, 1, 4, 2, 5}, {3, 2}, g::kInt32));
  expect_identical(loaded.at("s"), make_tensor({3, 4, 5}, {3}, g::kInt32));
}

TEST(Safetensors, CopiesCudaTensorsToTheHost) {
  GRAFT_REQUIRE_CUDA();
  TempDir dir;
  const g::Tensor host = make_tensor(g::testing::sample_values(10), {2, 5}, g::kFloat32);
  g::save({{"w", host.cuda().t()}}, dir / "x.safetensors");
  const g::Tensor loaded = g::load(dir / "x.safetensors").at("w");
  EXPECT_TRUE(loaded.is_cpu());
  expect_identical(loaded, host.t().contiguous());
}

TEST(Safetensors, WritesFormatPtAndTheCallersMetadata) {
  TempDir dir;
  g::save({}, dir / "x.safetensors", {{"epoch", "3"}, {"note", "a \"quoted\"\nline"}});
  EXPECT_EQ(g::load_metadata(dir / "x.safetensors"),
            (g::Metadata{{"epoch", "3"}, {"format", "pt"}, {"note", "a \"quoted\"\nline"}}));
  EXPECT_TRUE(g::load(dir / "x.safetensors").empty());
  // "format": "pt" given explicitly is the same file.
  g::save({}, dir / "y.safetensors",
          {{"format", "pt"}, {"epoch", "3"}, {"note", "a \"quoted\"\nline"}});
  EXPECT_EQ(read_bytes(dir / "x.safetensors"), read_bytes(dir / "y.safetensors"));
}

TEST(Safetensors, SaveRejectsWhatTheFormatCannotHold) {
  TempDir dir;
  const auto path = dir / "x.safetensors";
  EXPECT_THAT(error_message([&] {
                g::save({}, path, {{"format", "np"}});
              }),
              HasSubstr("the metadata key \"format\" is reserved: graft always writes \"pt\" "
                        "(got \"np\")"));
  EXPECT_THAT(error_message([&] {
                g::save({{"__metadata__", make_tensor({1}, {1})}}, path);
              }),
              HasSubstr("a tensor may not be named \"__metadata__\""));
  EXPECT_THAT(error_message([&] {
                g::save({{"w", g::Tensor()}}, path);
              }),
              HasSubstr("tensor \"w\" is an undefined Tensor"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

// ---- the atomic write

TEST(Safetensors, SaveReplacesAnExistingFileAndLeavesNoTemporaryFile) {
  TempDir dir;
  g::save({{"old", make_tensor({1}, {1})}}, dir / "x.safetensors");
  g::save({{"new", make_tensor({2}, {1})}}, dir / "x.safetensors");
  const g::StateDict loaded = g::load(dir / "x.safetensors");
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded.begin()->first, "new");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1);
}

TEST(Safetensors, SaveIntoAMissingFolderNamesThePath) {
  TempDir dir;
  const auto path = dir / "no-such-folder" / "x.safetensors";
  const std::string message = error_message([&] { g::save({}, path); });
  EXPECT_THAT(message,
              HasSubstr("save(): \"" + path.string() + "\": cannot create the temporary file"));
  EXPECT_THAT(message, HasSubstr(".tmp."));
  EXPECT_THAT(message, HasSubstr("No such file or directory"));
}

TEST(Safetensors, AFailedRenameRemovesTheTemporaryFile) {
  TempDir dir;
  std::filesystem::create_directories(dir / "taken" / "child");  // a non-empty folder
  const std::string message = error_message([&] { g::save({}, dir / "taken"); });
  EXPECT_THAT(message, HasSubstr("cannot move the finished temporary file"));
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1);  // "taken" only
}

TEST(Safetensors, AnUnfinishedWriteLeavesTheOldFileUntouched) {
  TempDir dir;
  const auto path = dir / "x.bin";
  write_file(path, {1, 2, 3});
  {
    g::io::AtomicFileWriter out({"test", path});
    out.write("partial", 7);
  }  // destroyed without commit(), as when an exception unwinds a save
  EXPECT_EQ(read_bytes(path), (Bytes{1, 2, 3}));
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1);
}

// ---- malformed files: every field is checked, each failure names the file and the field

// A safetensors file of `json` padded to 8 bytes and `data_bytes` zero bytes of data.
Bytes safetensors_bytes(const std::string& json, size_t data_bytes) {
  std::string header = json;
  header.append((8 - header.size() % 8) % 8, ' ');
  Bytes out;
  append_little_endian(out, header.size(), 8);
  append_text(out, header);
  out.resize(out.size() + data_bytes, 0);
  return out;
}

std::string load_error(const Bytes& bytes) {
  TempDir dir;
  write_file(dir / "bad.safetensors", bytes);
  const std::string message = error_message([&] { g::load(dir / "bad.safetensors"); });
  EXPECT_THAT(message, HasSubstr("load(): \"" + (dir / "bad.safetensors").string() + "\": "));
  return message;
}

std::string tensor_json(const std::string& name, const std::string& dtype, const std::string& shape,
                        int begin, int end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// `members` in braces: a JSON object. (Not "{" + members + "}": GCC 12 warns wrongly on
// that in some inlined contexts, -Wrestrict.)
std::string braced(const std::string& members) {
  std::string out = "{";
  out += members;
  out += "}";
  return out;
}

TEST(SafetensorsMalformed, TooShortForTheHeaderLength) {
  EXPECT_THAT(load_error({1, 2, 3, 4, 5}),
              HasSubstr("not a safetensors file: it is 5 bytes long, shorter than the 8-byte "
                        "header length"));
}

TEST(SafetensorsMalformed, HeaderLengthOver100MB) {
  Bytes bytes;
  append_little_endian(bytes, 100'000'001, 8);
  EXPECT_THAT(load_error(bytes),
              HasSubstr("the header length is 100000001 bytes, more than the 100000000"));
  bytes.clear();
  append_little_endian(bytes, ~uint64_t{0}, 8);
  EXPECT_THAT(load_error(bytes), HasSubstr("the header length is 18446744073709551615 bytes"));
}

// Found by fuzzing: a 20 MB header of one long array of zeros built its whole tree (about
// 900 MB) before the first check. The parse's value budget refuses it while parsing.
TEST(SafetensorsMalformed, AHeaderOfMillionsOfValuesIsRefusedWhileParsing) {
  std::string zeros(20'000'001, ',');
  zeros.front() = '[';
  for (size_t i = 1; i < zeros.size(); i += 2) zeros[i] = '0';
  zeros.back() = ']';
  Bytes bytes;
  append_little_endian(bytes, zeros.size(), 8);
  append_text(bytes, zeros);
  EXPECT_THAT(load_error(bytes), HasSubstr("the header is not valid JSON: invalid JSON at byte "
                                           "1999999: more than 1000000 values and keys"));
}

TEST(SafetensorsMalformed, HeaderLengthPastTheEndOfTheFile) {
  Bytes bytes;
  append_little_endian(bytes, 64, 8);
  append_text(bytes, "{}");
  EXPECT_THAT(load_error(bytes),
              HasSubstr("the header length is 64 bytes but only 2 bytes follow it (is the file "
                        "truncated?)"));
}

TEST(SafetensorsMalformed, EveryBadHeaderField) {
  const std::string f32 = tensor_json("w", "F32", "[2]", 0, 8);
  const struct {
    std::string json;
    size_t data_bytes;
    std::string message;
  } cases[] = {
      {"{\"w\":", 0,
       "the header is not valid JSON: invalid JSON at byte 8: the text ends where a value was "
       "expected"},
      {"{\"w\":1.5}", 0, "numbers with a fraction or an exponent are not supported"},
      {"[]", 0, "the header must be an object, got an array"},
      {"{\"w\":[]}", 0, "tensor \"w\" must be an object, got an array"},
      {"{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor \"w\" has no \"dtype\""},
      {"{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "tensor \"w\" has no \"shape\""},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "tensor \"w\" has no \"data_offsets\""},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
       "tensor \"w\" has the unexpected key \"x\" (a tensor has exactly \"dtype\", \"shape\" and "
       "\"data_offsets\")"},
      {"{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
       "tensor \"w\" has the key \"dtype\" twice"},
      {braced(tensor_json("w", "I16", "[2]", 0, 4)), 4,
       "tensor \"w\" has the dtype \"I16\", which graft does not support (it reads BOOL, U8, "
       "I32, I64, F16, BF16, F32 and F64)"},
      {"{\"w\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
       "the dtype of tensor \"w\" must be a string, got an integer"},
      {braced(tensor_json("w", "F32", "2", 0, 8)), 8,
       "the shape of tensor \"w\" must be an array, got an integer"},
      {braced(tensor_json("w", "F32", "[\"2\"]", 0, 8)), 8,
       "each size of tensor \"w\" must be an integer, got a string"},
      {braced(tensor_json("w", "F32", "[-2]", 0, 8)), 8,
       "tensor \"w\" has a negative size -2 in its shape"},
      {braced(tensor_json("w", "F32", "[4294967296,4294967296]", 0, 8)), 8,
       "tensor \"w\" has the shape (4294967296, 4294967296), whose byte size overflows 64 bits"},
      {braced(tensor_json("w", "F32", "[0,4294967296,4294967296]", 0, 0)), 0,
       "whose byte size overflows 64 bits"},
      {braced(tensor_json("w", "F32", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", 0, 4)), 4,
       "tensor \"w\" has 17 dims; graft tensors have at most 16"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
       "the data_offsets of tensor \"w\" must be [begin, end], got 1 values"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{}}}", 8,
       "the data_offsets of tensor \"w\" must be an array, got an object"},
      {braced(tensor_json("w", "F32", "[2]", 0, 8)), 4,
       "the data_offsets [0, 8] of tensor \"w\" are out of range: the data holds 4 bytes (is "
       "the file truncated?)"},
      {braced(tensor_json("w", "F32", "[0]", 8, 0)), 8,
       "the data_offsets [8, 0] of tensor \"w\" are out of range"},
      {braced(tensor_json("w", "F32", "[0]", -8, 0)), 8,
       "the data_offsets [-8, 0] of tensor \"w\" are out of range"},
      {braced(tensor_json("w", "F32", "[3]", 0, 8)), 8,
       "tensor \"w\" has 8 bytes of data but its dtype F32 and shape (3,) need 12"},
      {braced(f32 + "," + tensor_json("v", "F32", "[2]", 4, 12)), 12,
       "tensor \"w\" (bytes [0, 8)) and tensor \"v\" (bytes [4, 12)) overlap"},
      {braced(f32 + "," + tensor_json("v", "F32", "[2]", 0, 8)), 8,
       "tensor \"w\" (bytes [0, 8)) and tensor \"v\" (bytes [0, 8)) overlap"},
      {braced(f32 + "," + tensor_json("v", "F32", "[2]", 12, 20)), 20,
       "bytes [8, 12) of the data belong to no tensor (tensor offsets must be contiguous)"},
      {braced(tensor_json("w", "F32", "[2]", 4, 12)), 12,
       "bytes [0, 4) of the data belong to no tensor"},
      {braced(f32), 9, "bytes [8, 9) of the data belong to no tensor"},
      {braced(f32 + "," + f32), 8, "the header has the name \"w\" twice"},
      {"{\"__metadata__\":{},\"__metadata__\":{}}", 0,
       "the header has the name \"__metadata__\" twice"},
      {"{\"__metadata__\":[]}", 0, "\"__metadata__\" must be an object, got an array"},
      {"{\"__metadata__\":{\"epoch\":3}}", 0,
       "\"__metadata__\" entry \"epoch\" must be a string, got an integer"},
      {"{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0,
       "\"__metadata__\" has the key \"a\" twice"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    EXPECT_THAT(load_error(safetensors_bytes(c.json, c.data_bytes)), HasSubstr(c.message));
  }
}

TEST(SafetensorsMalformed, BooleansOtherThan0Or1) {
  Bytes bytes = safetensors_bytes(braced(tensor_json("m", "BOOL", "[3]", 0, 3)), 3);
  bytes[bytes.size() - 2] = 7;
  EXPECT_THAT(load_error(bytes),
              HasSubstr("tensor \"m\" is boolean but element 1 is the byte 7; booleans must be "
                        "stored as 0 or 1"));
}

TEST(SafetensorsMalformed, LoadMetadataValidatesTheWholeHeaderToo) {
  TempDir dir;
  write_file(dir / "bad.safetensors",
             safetensors_bytes(braced(tensor_json("w", "F32", "[2]", 0, 8)), 4));
  EXPECT_THAT(error_message([&] { g::load_metadata(dir / "bad.safetensors"); }),
              HasSubstr("load_metadata(): \"" + (dir / "bad.safetensors").string() +
                        "\": the data_offsets [0, 8] of tensor \"w\" are out of range"));
}

TEST(SafetensorsMalformed, MissingFilesAndFoldersAreNotCheckpoints) {
  TempDir dir;
  EXPECT_THAT(error_message([&] { g::load(dir / "missing.safetensors"); }),
              HasSubstr("cannot open the file: No such file or directory"));
  EXPECT_THAT(error_message([&] { g::load(dir.path()); }), HasSubstr("not a regular file"));
}

}  // namespace
