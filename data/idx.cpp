// IdxFile: read the file into memory, inflate it when it is gzip, then validate the header
// field by field against the bytes present and decode the big-endian elements.
//
// The whole file is held in memory before decoding (47 MB for Fashion-MNIST's training
// images): one code path for plain and gzip files, and exact sizes to validate the header
// against. The output of inflate grows as data arrives; gzip's trailer (the uncompressed
// size mod 2^32) only sets the first guess, and never beyond a few times the input, because
// the trailer is untrusted: junk behind a forged one must be refused after inflating what
// the junk really holds, not after zeroing gigabytes for it.
#include "graft/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

namespace graft::data {

namespace {

using Bytes = std::vector<uint8_t>;

// The first output buffer holds at most this many bytes per compressed byte (IDX images
// compress about 2-5:1); better-compressed data doubles the buffer as it inflates, so peak
// memory stays within about twice the output actually produced plus this guess.
constexpr size_t kFirstGuessRatio = 8;
constexpr int kMaxIdxDims = 8;

struct IdxType {
  uint8_t code;
  const char* name;
  int64_t size;  // bytes per element in the file
  DType dtype;   // what graft holds it as
};

constexpr IdxType kIdxTypes[] = {
    {0x08, "uint8", 1, kUInt8}, {0x09, "int8", 1, kInt32},      {0x0B, "int16", 2, kInt32},
    {0x0C, "int32", 4, kInt32}, {0x0D, "float32", 4, kFloat32}, {0x0E, "float64", 8, kFloat64},
};

std::string hex(uint8_t byte) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return {'0', 'x', kDigits[byte >> 4], kDigits[byte & 15]};
}

// Every error names the reader and the file first.
template <class... Args>
[[noreturn]] void fail(const std::filesystem::path& path, const Args&... args) {
  graft::detail::fail("IdxFile: '", path.string(), "': ", args...);
}

Bytes read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not an IDX file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) fail(path, "cannot open the file: ", std::strerror(errno));
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot read the file's size: ", ec.message());
  Bytes bytes(size);
  if (std::fread(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) {
    fail(path, "cannot read the file: ",
         std::ferror(file.get()) ? std::strerror(errno) : "it ended early");
  }
  return bytes;
}

bool is_gzip(const Bytes& bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// Inflates one or more concatenated gzip members (as gunzip does); anything else after a
// member, a stream that ends early and corrupt data are errors.
Bytes gunzip(const std::filesystem::path& path, const Bytes& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(path, "zlib could not start inflating");
  const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, &inflateEnd);

  size_t hint = 0;  // gzip's trailer: the last member's uncompressed size mod 2^32
  if (in.size() >= 4) {
    for (int b = 3; b >= 0; --b) hint = hint << 8 | in[in.size() - 4 + b];
  }
  // + 1: an exact hint then leaves room for inflate to report the end without a regrow.
  Bytes out(std::min(hint, in.size() * kFirstGuessRatio) + 1);
  size_t in_pos = 0, out_pos = 0;
  for (;;) {
    if (out_pos == out.size()) out.resize(out.size() * 2);
    zs.next_in = const_cast<Bytef*>(in.data() + in_pos);
    zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size() - in_pos, UINT_MAX));
    zs.next_out = out.data() + out_pos;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - out_pos, UINT_MAX));
    const uInt avail_in = zs.avail_in, avail_out = zs.avail_out;
    const int status = inflate(&zs, Z_NO_FLUSH);
    in_pos += avail_in - zs.avail_in;
    out_pos += avail_out - zs.avail_out;
    if (status == Z_STREAM_END) {
      if (in_pos == in.size()) break;
      const bool next_member =
          in.size() - in_pos >= 2 && in[in_pos] == 0x1f && in[in_pos + 1] == 0x8b;
      if (!next_member) {
        fail(path, "corrupt gzip file: ", in.size() - in_pos,
             " bytes of trailing garbage after the compressed stream");
      }
      inflateReset(&zs);
    } else if (status == Z_BUF_ERROR && in_pos == in.size()) {
      fail(path, "truncated gzip file: the compressed stream ends after ", in.size(),
           " bytes, before its end marker; download the file again");
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      fail(path, "corrupt gzip file: zlib says '", zs.msg ? zs.msg : zError(status), "'");
    }
  }
  out.resize(out_pos);
  return out;
}

const IdxType& idx_type(const std::filesystem::path& path, uint8_t code) {
  for (const IdxType& type : kIdxTypes) {
    if (type.code == code) return type;
  }
  fail(path, "unknown element type code ", hex(code),
       " (byte 2 of the magic number); IDX knows 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, "
       "0x0D float32, 0x0E float64");
}

// Decodes n big-endian elements of type Src into Dst (the same type, or int32 for widening).
template <class Src, class Dst>
void decode(const uint8_t* in, void* out, int64_t n) {
  Dst* dst = static_cast<Dst*>(out);
  if constexpr (sizeof(Src) == 1) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(std::bit_cast<Src>(in[i]));
  } else {
    using Bits = std::conditional_t<sizeof(Src) == 2, uint16_t,
                                    std::conditional_t<sizeof(Src) == 4, uint32_t, uint64_t>>;
    for (int64_t i = 0; i < n; ++i) {
      Bits bits = 0;
      for (size_t b = 0; b < sizeof(Src); ++b) bits = static_cast<Bits>(bits << 8 | in[b]);
      dst[i] = static_cast<Dst>(std::bit_cast<Src>(bits));
      in += sizeof(Src);
    }
  }
}

void decode_elements(const IdxType& type, const uint8_t* in, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  void* dst = out.data_ptr();
  switch (type.code) {
    case 0x08:
      std::memcpy(dst, in, static_cast<size_t>(n));
      break;
    case 0x09:
      decode<int8_t, int32_t>(in, dst, n);
      break;
    case 0x0B:
      decode<int16_t, int32_t>(in, dst, n);
      break;
    case 0x0C:
      decode<int32_t, int32_t>(in, dst, n);
      break;
    case 0x0D:
      decode<float, float>(in, dst, n);
      break;
    case 0x0E:
      decode<double, double>(in, dst, n);
      break;
  }
}

}  // namespace

IdxFile::IdxFile(std::filesystem::path path) : path_(std::move(path)) {
  Bytes bytes = read_file(path_);
  const bool gzip = is_gzip(bytes);
  if (gzip) bytes = gunzip(path_, bytes);
  const char* what = gzip ? "the decompressed file" : "the file";
  const size_t n = bytes.size();

  if (n < 4) {
    fail(path_, "truncated header: ", what, " has ", n,
         " bytes, fewer than the 4-byte magic number every IDX file starts with");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    fail(path_, "bad magic number ", hex(bytes[0]), " ", hex(bytes[1]), " ", hex(bytes[2]), " ",
         hex(bytes[3]),
         ": an IDX file starts with 0x00 0x00, a type code and the number of dims; this is not "
         "an IDX file");
  }
  const IdxType& type = idx_type(path_, bytes[2]);
  type_code_ = type.code;
  const int ndims = bytes[3];
  if (ndims == 0 || ndims > kMaxIdxDims) {
    fail(path_, "the header says ", ndims,
         " dims (byte 3 of the magic number); graft reads IDX "
         "files of 1 to ",
         kMaxIdxDims, " dims");
  }
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (n < header) {
    fail(path_, "truncated header: ", ndims, " dims need a header of ", header, " bytes, ", what,
         " has only ", n);
  }

  Shape shape;
  for (int d = 0; d < ndims; ++d) {
    const uint8_t* p = bytes.data() + 4 + 4 * d;
    shape.push_back(int64_t{p[0]} << 24 | int64_t{p[1]} << 16 | int64_t{p[2]} << 8 | p[3]);
  }
  // Checked as graft will hold the tensor (its dtype may be wider than the file's type), so
  // that the tensor made below is one empty() accepts; the file's own byte count is then
  // at most this one.
  if (!contiguous_nbytes(shape, element_size(type.dtype))) {
    fail(path_, "dims ", shape, " of ", type.name,
         " describe more bytes than 64 bits can count; the header is corrupted");
  }
  const int64_t nbytes = shape.numel() * type.size;
  const size_t payload = n - header;
  if (static_cast<uint64_t>(nbytes) > payload) {
    fail(path_, "truncated data: dims ", shape, " of ", type.name, " need ", nbytes,
         " bytes after the ", header, "-byte header, ", what, " has only ", payload,
         "; the file is incomplete or its dims are wrong");
  }
  if (static_cast<uint64_t>(nbytes) < payload) {
    fail(path_, payload - static_cast<uint64_t>(nbytes), " bytes of trailing garbage after the ",
         nbytes, " bytes of data that dims ", shape, " of ", type.name,
         " describe; the file is corrupted or its dims are wrong");
  }
  tensor_ = empty(shape, type.dtype);
  decode_elements(type, bytes.data() + header, tensor_);
}

Tensor read_idx(const std::filesystem::path& path) { return IdxFile(path).tensor(); }

}  // namespace graft::data
