// .npy reading and writing. The header is a Python literal; rather than a Python parser,
// graft reads the one dict shape numpy writes (three known keys; a string, a bool and a
// tuple of integers) and rejects everything else with the position and the problem.
#include "graft/io/npy.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graft/io/file_io.h"

namespace graft {
namespace {

using io::FileContext;

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kVersionBytes = 2;
// numpy pads magic + version + length + header to a multiple of 64, so that the data is
// aligned for any dtype (and for memory mapping).
constexpr size_t kAlignment = 64;
// numpy refuses headers over 10000 bytes by default (np.load's max_header_size); graft
// allows more than numpy but not unbounded: a longer one means a corrupted file.
constexpr uint64_t kMaxHeaderBytes = 1 << 20;

struct DescrCode {
  DType dtype;
  std::string_view descr;
};
// Every dtype but bfloat16, which NumPy does not have.
constexpr std::array<DescrCode, kNumDTypes - 1> kDescrCodes = {{{kBool, "|b1"},
                                                                {kUInt8, "|u1"},
                                                                {kInt32, "<i4"},
                                                                {kInt64, "<i8"},
                                                                {kFloat16, "<f2"},
                                                                {kFloat32, "<f4"},
                                                                {kFloat64, "<f8"}}};

std::string_view descr_of(DType dtype) {
  for (const auto& entry : kDescrCodes)
    if (entry.dtype == dtype) return entry.descr;
  throw Error(std::string("NumPy has no ") + dtype_name(dtype) +
              " type, so a .npy or .npz file cannot hold it; convert first "
              "(t.to(graft::kFloat32)), or save with graft::save() (safetensors), which keeps it");
}

DType dtype_of_descr(const FileContext& context, const std::string& descr) {
  for (const auto& entry : kDescrCodes)
    if (entry.descr == descr) return entry.dtype;
  context.check(descr.empty() || descr[0] != '>', "the dtype '", descr,
                "' is big-endian, which graft does not read; save a little-endian array "
                "(arr.astype(arr.dtype.newbyteorder('<')))");
  context.check(descr.find('O') == std::string::npos, "the dtype '", descr,
                "' is an object array, stored with pickle, which graft never loads; save a "
                "numeric array");
  context.fail(
      "the dtype '", descr,
      "' is not supported (graft reads '<f2', '<f4', '<f8', '<i4', '<i8', '|u1' and '|b1')");
}

// What the header says, before validation against the file.
struct RawHeader {
  std::string descr;
  bool fortran_order;
  std::vector<int64_t> sizes;
};

class HeaderParser {
 public:
  HeaderParser(const FileContext& context, std::string_view text)
      : context_(context), text_(text) {}

  RawHeader parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<int64_t>> sizes;
    skip_whitespace();
    expect('{');
    skip_whitespace();
    while (peek() != '}') {
      const std::string key = parse_string();
      skip_whitespace();
      expect(':');
      skip_whitespace();
      if (key == "descr") {
        check(!descr, "the key 'descr' appears twice");
        check(peek() == '\'' || peek() == '"',
              "'descr' must be a string such as '<f4' (structured dtypes are not supported)");
        descr = parse_string();
      } else if (key == "fortran_order") {
        check(!fortran_order, "the key 'fortran_order' appears twice");
        fortran_order = parse_bool();
      } else if (key == "shape") {
        check(!sizes, "the key 'shape' appears twice");
        sizes = parse_tuple();
      } else {
        fail("unexpected key '", key,
             "' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')");
      }
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        skip_whitespace();
      } else {
        check(peek() == '}', "expected ',' or '}' after the value of '", key, "'");
      }
    }
    ++pos_;  // '}'
    skip_whitespace();
    check(pos_ == text_.size(), "unexpected text after the closing '}'");
    context_.check(descr.has_value(), "the header has no 'descr'");
    context_.check(fortran_order.has_value(), "the header has no 'fortran_order'");
    context_.check(sizes.has_value(), "the header has no 'shape'");
    return {*descr, *fortran_order, *sizes};
  }

 private:
  template <class... Args>
  [[noreturn]] void fail(const Args&... args) const {
    context_.fail("invalid header at character ", pos_, ": ", args...);
  }
  template <class... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) [[unlikely]]
      fail(args...);
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_whitespace() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') ++pos_;
  }
  void expect(char c) {
    check(peek() == c, "expected '", c, "'");
    ++pos_;
  }

  // A quoted string without escapes (numpy's keys and numeric descrs have none).
  std::string parse_string() {
    const char quote = peek();
    check(quote == '\'' || quote == '"', "expected a quoted string");
    const size_t close = text_.find(quote, pos_ + 1);
    check(close != std::string_view::npos, "a string is not closed");
    const std::string_view body = text_.substr(pos_ + 1, close - pos_ - 1);
    check(body.find('\\') == std::string_view::npos, "escapes in strings are not supported");
    pos_ = close + 1;
    return std::string(body);
  }

  bool parse_bool() {
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    fail("'fortran_order' must be True or False");
  }

  // A non-negative or negative integer (the sign is judged later, with the shape), with
  // the 'L' suffix that numpy under Python 2 wrote for long integers.
  int64_t parse_integer() {
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    check(peek() >= '0' && peek() <= '9', "expected an integer in 'shape'");
    int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      check(value <= (std::numeric_limits<int64_t>::max() - digit) / 10,
            "a size in 'shape' does not fit in 64 bits");
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;
    return negative ? -value : value;
  }

  // (), (3,) or (2, 3) with an optional trailing comma; (3) is not a tuple in Python.
  std::vector<int64_t> parse_tuple() {
    check(peek() == '(', "'shape' must be a tuple such as (2, 3)");
    ++pos_;
    std::vector<int64_t> sizes;
    bool trailing_comma = false;
    skip_whitespace();
    while (peek() != ')') {
      sizes.push_back(parse_integer());
      skip_whitespace();
      trailing_comma = peek() == ',';
      if (trailing_comma) {
        ++pos_;
        skip_whitespace();
      } else {
        check(peek() == ')', "expected ',' or ')' in 'shape'");
      }
    }
    ++pos_;  // ')'
    check(sizes.size() != 1 || trailing_comma,
          "'shape' is not a tuple: a 1-d shape is written (n,), with a comma");
    return sizes;
  }

  const FileContext& context_;
  std::string_view text_;
  size_t pos_ = 0;
};

// Python's repr of the shape tuple: "()", "(3,)", "(2, 3)".
std::string shape_tuple(const Shape& shape) {
  std::string out = "(";
  for (int64_t i = 0; i < shape.size(); ++i) out += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

// The longest header save_npy() writes: the fixed text, kMaxDims sizes of up to 19 digits
// and ", ", then at most kAlignment - 1 spaces and the '\n'. It fits the 1.0 format's
// uint16 length, so save_npy() never needs version 2.0.
constexpr size_t kLongestHeader =
    std::string_view("{'descr': '<f4', 'fortran_order': False, 'shape': (), }").size() +
    kMaxDims * 21 + kAlignment;
static_assert(kLongestHeader <= std::numeric_limits<uint16_t>::max());

}  // namespace

namespace io {

std::string npy_header(const Tensor& host) {
  std::string header = "{'descr': '" + std::string(descr_of(host.dtype())) +
                       "', 'fortran_order': False, 'shape': " + shape_tuple(host.shape()) + ", }";
  const size_t preamble = kMagic.size() + kVersionBytes + sizeof(uint16_t);
  header.append((kAlignment - (preamble + header.size() + 1) % kAlignment) % kAlignment, ' ');
  header += '\n';
  const auto length = static_cast<uint16_t>(header.size());
  std::string out(kMagic);
  out += {'\x01', '\x00'};  // version 1.0
  out.append(reinterpret_cast<const char*>(&length), sizeof(length));
  return out + header;
}

Tensor read_npy(ByteSource& source) {
  const FileContext& context = source.context();
  const uint64_t size = source.size();
  constexpr size_t version_end = kMagic.size() + kVersionBytes;
  context.check(size >= version_end, "not a .npy file: it is ", size,
                " bytes long, shorter than the magic string and version");
  char preamble[version_end];
  source.read(preamble, version_end, "the magic string");
  context.check(std::string_view(preamble, kMagic.size()) == kMagic,
                "not a .npy file: it does not start with the magic string \"\\x93NUMPY\"");
  const int major = static_cast<uint8_t>(preamble[kMagic.size()]);
  const int minor = static_cast<uint8_t>(preamble[kMagic.size() + 1]);
  context.check(major >= 1 && major <= 3 && minor == 0, "unsupported .npy version ", major, ".",
                minor, " (graft reads 1.0, 2.0 and 3.0)");

  const size_t length_bytes = major == 1 ? sizeof(uint16_t) : sizeof(uint32_t);
  const uint64_t header_start = version_end + length_bytes;
  context.check(size >= header_start, "the file ends inside the header length");
  uint32_t length = 0;  // little-endian: a uint16 read fills the low bytes
  source.read(&length, length_bytes, "the header length");
  context.check(length <= kMaxHeaderBytes, "the header length is ", length,
                " bytes, more than the ", kMaxHeaderBytes, " graft accepts (is this a .npy file?)");
  context.check(length <= size - header_start, "the header length is ", length, " bytes but only ",
                size - header_start, " bytes follow it (is the file truncated?)");
  std::string text(length, '\0');
  source.read(text.data(), length, "the header");

  const RawHeader header = HeaderParser(context, text).parse();
  const DType dtype = dtype_of_descr(context, header.descr);
  const Shape shape = io::checked_shape(context, header.sizes, dtype, "the array");
  const uint64_t data_start = header_start + length;
  const auto nbytes = static_cast<uint64_t>(shape.numel() * element_size(dtype));
  context.check(size - data_start == nbytes, "the header says '", header.descr, "' of shape ",
                shape, ", which is ", nbytes, " bytes, but ", size - data_start,
                " bytes follow the header",
                size - data_start < nbytes ? " (is the file truncated?)" : "");
  if (!header.fortran_order) return io::read_tensor(source, shape, dtype, "the array");

  // Fortran order stores the array's transpose in row-major order: read that (the reversed
  // shape), permute the dims back, and copy to row-major.
  Shape reversed;
  Dims back;
  for (int64_t i = shape.size() - 1; i >= 0; --i) {
    reversed.push_back(shape[i]);
    back.push_back(i);
  }
  return io::read_tensor(source, reversed, dtype, "the array").permute(back).contiguous();
}

}  // namespace io

void save_npy(const Tensor& tensor, const std::filesystem::path& path) {
  const FileContext context{"save_npy()", path};
  context.check(tensor.defined(), "the tensor is undefined");
  const Tensor host = io::host_contiguous(tensor);
  const std::string header = io::npy_header(host);
  io::AtomicFileWriter out(context);
  out.write(header.data(), header.size());
  out.write(host.data_ptr(), host.nbytes());
  out.commit();
}

Tensor load_npy(const std::filesystem::path& path) {
  const io::FileReader file({"load_npy()", path});
  io::FileRegion whole(file, 0, file.size());
  return io::read_npy(whole);
}

}  // namespace graft
