// ZipWriter: each member is written in one pass with its local header first, as a
// placeholder whose CRC-32 and sizes are filled in once the data is through (the header's
// length does not depend on them). So a member costs no more memory than zlib's buffers,
// however large its array.
#include <zlib.h>

#include <algorithm>
#include <string>

#include "graft/io/zip.h"

namespace graft::io {
namespace {

using namespace zip;

// Version 4.5 of the format, the first with ZIP64, made on Unix (for the permissions below).
constexpr uint16_t kVersion = 45;
constexpr uint16_t kMadeOnUnix = 3 << 8;
constexpr uint32_t kPermissions = 0644 << 16;           // rw-r--r--, where unzip reads them
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, the earliest there is
constexpr size_t kOutputChunk = 1 << 16;
// zlib counts its input in 32-bit unsigned ints.
constexpr size_t kMaxInputChunk = 1u << 30;

// Little-endian fields appended one after another.
class Fields {
 public:
  Fields& u16(uint16_t value) { return put(value, 2); }
  Fields& u32(uint32_t value) { return put(value, 4); }
  Fields& u64(uint64_t value) { return put(value, 8); }
  Fields& text(const std::string& text) {
    bytes_ += text;
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  Fields& put(uint64_t value, int nbytes) {
    for (int i = 0; i < nbytes; ++i) bytes_ += static_cast<char>(value >> (8 * i));
    return *this;
  }
  std::string bytes_;
};

uint16_t name_flags(const std::string& name) {
  const bool ascii = std::all_of(name.begin(), name.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  return ascii ? 0 : kUtf8Flag;
}

uint16_t method(const ZipMember& member) { return member.deflated ? kDeflated : kStored; }

// The fields local headers and central directory entries share, from the version needed to
// the name's length.
void common_fields(Fields& fields, const ZipMember& member) {
  fields.u16(kVersion)
      .u16(name_flags(member.name))
      .u16(method(member))
      .u16(0)  // time: 00:00:00
      .u16(kDosDate)
      .u32(static_cast<uint32_t>(member.crc32))
      .u32(kZip64Marker32)  // the sizes are in the ZIP64 extra field
      .u32(kZip64Marker32)
      .u16(static_cast<uint16_t>(member.name.size()));
}

std::string local_header(const ZipMember& member) {
  Fields fields;
  fields.u32(kLocalHeaderSignature);
  common_fields(fields, member);
  fields.u16(2 * 2 + 2 * 8).text(member.name);
  fields.u16(kZip64ExtraId).u16(2 * 8).u64(member.size).u64(member.compressed_size);
  return fields.bytes();
}

std::string central_entry(const ZipMember& member) {
  Fields fields;
  fields.u32(kCentralEntrySignature).u16(kMadeOnUnix | kVersion);
  common_fields(fields, member);
  fields.u16(2 * 2 + 3 * 8)
      .u16(0)  // comment length
      .u16(0)  // disk
      .u16(0)  // internal attributes
      .u32(kPermissions)
      .u32(kZip64Marker32)  // the local header's offset is in the ZIP64 extra field
      .text(member.name);
  fields.u16(kZip64ExtraId).u16(3 * 8);
  fields.u64(member.size).u64(member.compressed_size).u64(member.header_offset);
  return fields.bytes();
}

// The ZIP64 end record and its locator, then the classic end record, all its counts and
// offsets pointing to the ZIP64 record.
std::string end_records(uint64_t count, uint64_t directory_offset, uint64_t directory_end) {
  Fields fields;
  fields.u32(kZip64EndSignature)
      .u64(kZip64EndBytes - 12)  // the record's size after this field
      .u16(kMadeOnUnix | kVersion)
      .u16(kVersion)
      .u32(0)  // this disk
      .u32(0)  // the central directory's disk
      .u64(count)
      .u64(count)
      .u64(directory_end - directory_offset)
      .u64(directory_offset);
  fields.u32(kZip64LocatorSignature).u32(0).u64(directory_end).u32(1);  // 1 disk in all
  fields.u32(kEndSignature).u16(0).u16(0).u16(kZip64Marker16).u16(kZip64Marker16);
  fields.u32(kZip64Marker32).u32(kZip64Marker32).u16(0);  // no comment
  return fields.bytes();
}

}  // namespace

ZipWriter::ZipWriter(FileContext context, bool deflate) : context_(context), out_(context) {
  if (!deflate) return;
  deflater_ = std::make_unique<z_stream>();
  // Raw deflate (negative window bits: no zlib header) at zlib's default level, as Python's
  // zipfile asks for it.
  const int status = deflateInit2(deflater_.get(), Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY);
  if (status != Z_OK) {
    deflater_.reset();
    context_.fail("zlib could not start deflating: ", zError(status));
  }
  output_.resize(kOutputChunk);
}

ZipWriter::~ZipWriter() {
  if (deflater_) deflateEnd(deflater_.get());
}

void ZipWriter::write_deflated(const Piece& piece, int flush) {
  z_stream& stream = *deflater_;
  const auto* next = static_cast<const Bytef*>(piece.data);
  size_t left = piece.nbytes;
  do {
    const size_t chunk = std::min(left, kMaxInputChunk);
    stream.next_in = const_cast<Bytef*>(next);  // zlib's old API is not const-correct
    stream.avail_in = static_cast<uInt>(chunk);
    next += chunk;
    left -= chunk;
    do {
      stream.next_out = output_.data();
      stream.avail_out = static_cast<uInt>(output_.size());
      const int status = deflate(&stream, left > 0 ? Z_NO_FLUSH : flush);
      context_.check(status != Z_STREAM_ERROR, "zlib failed while deflating");
      out_.write(output_.data(), output_.size() - stream.avail_out);
    } while (stream.avail_out == 0);
  } while (left > 0);
}

void ZipWriter::add(const std::string& name, const std::vector<Piece>& pieces) {
  ZipMember member{name, deflater_ != nullptr, 0, 0, 0, out_.position(), 0};
  const std::string placeholder = local_header(member);
  out_.write(placeholder.data(), placeholder.size());
  member.data_offset = out_.position();
  uLong crc = crc32_z(0, Z_NULL, 0);
  for (const Piece& piece : pieces) {
    crc = crc32_z(crc, static_cast<const Bytef*>(piece.data), piece.nbytes);
    member.size += piece.nbytes;
    if (member.deflated) {
      write_deflated(piece, Z_NO_FLUSH);
    } else {
      out_.write(piece.data, piece.nbytes);
    }
  }
  if (member.deflated) {
    write_deflated({nullptr, 0}, Z_FINISH);
    deflateReset(deflater_.get());
  }
  member.crc32 = static_cast<uint32_t>(crc);
  member.compressed_size = out_.position() - member.data_offset;
  const std::string header = local_header(member);
  out_.overwrite(member.header_offset, header.data(), header.size());
  members_.push_back(std::move(member));
}

void ZipWriter::commit() {
  const uint64_t directory_offset = out_.position();
  for (const ZipMember& member : members_) {
    const std::string entry = central_entry(member);
    out_.write(entry.data(), entry.size());
  }
  const std::string end = end_records(members_.size(), directory_offset, out_.position());
  out_.write(end.data(), end.size());
  out_.commit();
}

}  // namespace graft::io
