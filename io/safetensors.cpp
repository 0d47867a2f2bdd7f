// safetensors reading and writing. Reading trusts nothing: the header is parsed and every
// field checked against the bytes actually in the file before anything is allocated, so a
// corrupted or hostile file costs at most its own header's size plus the bounded tree of
// json::Limits (about 50 MB) in memory, and ends in a graft::Error that names the file and
// the field.
#include "graft/io/safetensors.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "graft/io/file_io.h"
#include "graft/io/json.h"

namespace graft {
namespace {

using io::FileContext;

// The Rust safetensors crate refuses larger headers too; a header that size would describe
// millions of tensors, so a bigger length means a corrupted (or not a safetensors) file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kLengthBytes = 8;
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeCode {
  DType dtype;
  std::string_view code;
};
constexpr std::array<DTypeCode, kNumDTypes> kDTypeCodes = {{{kBool, "BOOL"},
                                                            {kUInt8, "U8"},
                                                            {kInt32, "I32"},
                                                            {kInt64, "I64"},
                                                            {kFloat16, "F16"},
                                                            {kBFloat16, "BF16"},
                                                            {kFloat32, "F32"},
                                                            {kFloat64, "F64"}}};

std::string_view dtype_code(DType dtype) {
  for (const auto& entry : kDTypeCodes)
    if (entry.dtype == dtype) return entry.code;
  detail::fail("save(): no safetensors code for dtype ", dtype);
}

std::optional<DType> dtype_from_code(std::string_view code) {
  for (const auto& entry : kDTypeCodes)
    if (entry.code == code) return entry.dtype;
  return std::nullopt;
}

// One tensor of the header; begin and end count from the start of the data.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  int64_t begin;
  int64_t end;
};

struct Header {
  Metadata metadata;
  std::vector<Entry> entries;
  int64_t data_start;  // file offset of the data: 8 + header length
};

std::string tensor_label(const std::string& name) { return "tensor \"" + name + "\""; }

const json::Value& expect_kind(const FileContext& context, const json::Value& value,
                               json::Kind kind, const std::string& what) {
  context.check(value.kind() == kind, what, " must be ", json::kind_name(kind), ", got ",
                json::kind_name(value.kind()));
  return value;
}

Metadata parse_metadata(const FileContext& context, const json::Value& value) {
  const std::string what = "\"__metadata__\"";
  Metadata metadata;
  for (const auto& [key, member] :
       expect_kind(context, value, json::Kind::kObject, what).as_object()) {
    const std::string& text =
        expect_kind(context, member, json::Kind::kString, what + " entry \"" + key + "\"")
            .as_string();
    context.check(metadata.emplace(key, text).second, what, " has the key \"", key, "\" twice");
  }
  return metadata;
}

Shape parse_shape(const FileContext& context, const json::Value& value, DType dtype,
                  const std::string& what) {
  std::vector<int64_t> sizes;
  for (const json::Value& size :
       expect_kind(context, value, json::Kind::kArray, "the shape of " + what).as_array()) {
    sizes.push_back(
        expect_kind(context, size, json::Kind::kInteger, "each size of " + what).as_integer());
  }
  return io::checked_shape(context, sizes, dtype, what);
}

Entry parse_entry(const FileContext& context, const std::string& name, const json::Value& value,
                  int64_t data_size) {
  const std::string what = tensor_label(name);
  // Each of the three keys exactly once, no other key (the Rust reader is as strict).
  const json::Value* dtype_value = nullptr;
  const json::Value* shape_value = nullptr;
  const json::Value* offsets_value = nullptr;
  for (const auto& [key, member] :
       expect_kind(context, value, json::Kind::kObject, what).as_object()) {
    const json::Value** slot = key == "dtype"          ? &dtype_value
                               : key == "shape"        ? &shape_value
                               : key == "data_offsets" ? &offsets_value
                                                       : nullptr;
    context.check(slot != nullptr, what, " has the unexpected key \"", key,
                  "\" (a tensor has exactly \"dtype\", \"shape\" and \"data_offsets\")");
    context.check(*slot == nullptr, what, " has the key \"", key, "\" twice");
    *slot = &member;
  }
  context.check(dtype_value != nullptr, what, " has no \"dtype\"");
  context.check(shape_value != nullptr, what, " has no \"shape\"");
  context.check(offsets_value != nullptr, what, " has no \"data_offsets\"");

  const std::string& code =
      expect_kind(context, *dtype_value, json::Kind::kString, "the dtype of " + what).as_string();
  const std::optional<DType> dtype = dtype_from_code(code);
  context.check(dtype.has_value(), what, " has the dtype \"", code,
                "\", which graft does not support (it reads BOOL, U8, I32, I64, F16, BF16, F32 "
                "and F64)");
  Entry entry{name, *dtype, parse_shape(context, *shape_value, *dtype, what), 0, 0};

  const json::Array& offsets =
      expect_kind(context, *offsets_value, json::Kind::kArray, "the data_offsets of " + what)
          .as_array();
  context.check(offsets.size() == 2, "the data_offsets of ", what, " must be [begin, end], got ",
                offsets.size(), " values");
  entry.begin = expect_kind(context, offsets[0], json::Kind::kInteger, "data_offsets of " + what)
                    .as_integer();
  entry.end = expect_kind(context, offsets[1], json::Kind::kInteger, "data_offsets of " + what)
                  .as_integer();
  context.check(0 <= entry.begin && entry.begin <= entry.end && entry.end <= data_size,
                "the data_offsets [", entry.begin, ", ", entry.end, "] of ", what,
                " are out of range: the data holds ", data_size, " bytes (is the file truncated?)");
  const int64_t nbytes = entry.shape.numel() * element_size(entry.dtype);
  context.check(entry.end - entry.begin == nbytes, what, " has ", entry.end - entry.begin,
                " bytes of data but its dtype ", code, " and shape ", entry.shape, " need ",
                nbytes);
  return entry;
}

// The tensors must tile the data exactly: sorted by offset, each starts where the previous
// ends, the first at 0 and the last at the end of the file.
void check_layout(const FileContext& context, std::vector<Entry> entries, int64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  int64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& entry : entries) {
    if (entry.begin < covered) {
      context.fail(tensor_label(previous->name), " (bytes [", previous->begin, ", ", previous->end,
                   ")) and ", tensor_label(entry.name), " (bytes [", entry.begin, ", ", entry.end,
                   ")) overlap");
    }
    context.check(entry.begin == covered, "bytes [", covered, ", ", entry.begin,
                  ") of the data belong to no tensor (tensor offsets must be contiguous)");
    covered = entry.end;
    previous = &entry;
  }
  context.check(covered == data_size, "bytes [", covered, ", ", data_size,
                ") of the data belong to no tensor (tensor offsets must be contiguous)");
}

Header read_header(const io::FileReader& file) {
  const FileContext& context = file.context();
  context.check(file.size() >= kLengthBytes, "not a safetensors file: it is ", file.size(),
                " bytes long, shorter than the 8-byte header length that starts one");
  uint64_t length = 0;
  file.read(0, &length, kLengthBytes, "the header length");
  context.check(length <= kMaxHeaderBytes, "the header length is ", length,
                " bytes, more than the ", kMaxHeaderBytes,
                " a safetensors reader accepts (is this a safetensors file?)");
  context.check(length <= file.size() - kLengthBytes, "the header length is ", length,
                " bytes but only ", file.size() - kLengthBytes,
                " bytes follow it (is the file truncated?)");
  std::string text(length, '\0');
  file.read(kLengthBytes, text.data(), length, "the header");
  const json::Value root = [&] {
    try {
      return json::parse(text);
    } catch (const Error& e) {
      context.fail("the header is not valid JSON: ", e.what());
    }
  }();

  Header header{{}, {}, static_cast<int64_t>(kLengthBytes + length)};
  const int64_t data_size = static_cast<int64_t>(file.size()) - header.data_start;
  std::set<std::string_view> names;
  for (const auto& [name, value] :
       expect_kind(context, root, json::Kind::kObject, "the header").as_object()) {
    context.check(names.insert(name).second, "the header has the name \"", name, "\" twice");
    if (name == kMetadataKey) {
      header.metadata = parse_metadata(context, value);
    } else {
      header.entries.push_back(parse_entry(context, name, value, data_size));
    }
  }
  check_layout(context, header.entries, data_size);
  return header;
}

}  // namespace

void save(const StateDict& tensors, const std::filesystem::path& path, const Metadata& metadata) {
  const FileContext context{"save()", path};
  const auto format = metadata.find("format");
  context.check(format == metadata.end() || format->second == "pt",
                "the metadata key \"format\" is reserved: graft always writes \"pt\" (got \"",
                format == metadata.end() ? "" : format->second, "\")");

  struct Item {
    const std::string* name;
    Tensor data;  // contiguous, on the host
  };
  std::vector<Item> items;
  for (const auto& [name, tensor] : tensors) {
    context.check(name != kMetadataKey,
                  "a tensor may not be named \"__metadata__\": safetensors reserves that name");
    context.check(tensor.defined(), tensor_label(name), " is an undefined Tensor");
    items.push_back({&name, io::host_contiguous(tensor)});
  }
  // Largest elements first keeps every tensor aligned to its element size in the file.
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.data.element_size() > b.data.element_size();
  });

  json::Object metadata_json = {{"format", "pt"}};
  for (const auto& [key, value] : metadata)
    if (key != "format") metadata_json.emplace_back(key, value);
  json::Object header = {{std::string(kMetadataKey), std::move(metadata_json)}};
  int64_t offset = 0;
  for (const Item& item : items) {
    json::Array shape;
    for (const int64_t size : item.data.shape()) shape.emplace_back(size);
    const int64_t end = offset + item.data.nbytes();
    header.emplace_back(*item.name,
                        json::Object{{"dtype", std::string(dtype_code(item.data.dtype()))},
                                     {"shape", std::move(shape)},
                                     {"data_offsets", json::Array{offset, end}}});
    offset = end;
  }
  std::string text = json::dump(header);
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');

  io::AtomicFileWriter out(context);
  const uint64_t length = text.size();
  out.write(&length, kLengthBytes);
  out.write(text.data(), text.size());
  for (const Item& item : items) out.write(item.data.data_ptr(), item.data.nbytes());
  out.commit();
}

StateDict load(const std::filesystem::path& path) {
  const io::FileReader file({"load()", path});
  const Header header = read_header(file);
  StateDict tensors;
  for (const Entry& entry : header.entries) {
    io::FileRegion data(file, header.data_start + entry.begin, entry.end - entry.begin);
    tensors.emplace(entry.name,
                    io::read_tensor(data, entry.shape, entry.dtype, tensor_label(entry.name)));
  }
  return tensors;
}

Metadata load_metadata(const std::filesystem::path& path) {
  const io::FileReader file({"load_metadata()", path});
  return read_header(file).metadata;
}

}  // namespace graft
