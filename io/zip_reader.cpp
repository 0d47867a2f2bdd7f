// Reading a zip archive: find the end record at the end of the file (behind a comment of up
// to 64 KiB), follow it, or its ZIP64 record, to the central directory, check each entry
// against its local header, then read members through ZipMemberSource. The central
// directory is read whole (it lies inside the file, so it costs at most the file's size);
// member data is read in chunks.
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "graft/io/zip.h"

namespace graft::io {
namespace {

using namespace zip;

// Deflate's densest code spends 2 bits on a 258-byte match (a 1-bit length code and a 1-bit
// distance code), so 1 compressed byte never stands for more than 1032 bytes.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr size_t kMaxComment = 0xFFFF;
constexpr size_t kInputChunk = 1 << 16;
// General purpose flags: encryption (traditional, strong, of the central directory) and a
// data descriptor after the data (the local header's CRC and sizes are then zero).
constexpr uint16_t kEncryptedFlags = (1 << 0) | (1 << 6) | (1 << 13);
constexpr uint16_t kDataDescriptorFlag = 1 << 3;

// Little-endian fields at fixed positions of a record in memory.
class Record {
 public:
  explicit Record(std::string_view bytes) : bytes_(bytes) {}
  uint16_t u16(size_t at) const { return static_cast<uint16_t>(load(at, 2)); }
  uint32_t u32(size_t at) const { return static_cast<uint32_t>(load(at, 4)); }
  uint64_t u64(size_t at) const { return load(at, 8); }
  std::string_view bytes(size_t at, size_t n) const { return bytes_.substr(at, n); }

 private:
  uint64_t load(size_t at, int nbytes) const {
    uint64_t value = 0;
    for (int i = nbytes - 1; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes_[at + i]);
    return value;
  }
  std::string_view bytes_;
};

std::string hex32(unsigned long value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08lx", value);
  return text;
}

std::string read_string(const FileReader& file, uint64_t offset, size_t nbytes, const char* what) {
  std::string bytes(nbytes, '\0');
  file.read(offset, bytes.data(), nbytes, what);
  return bytes;
}

// Where the central directory is, from the end records; `end` is where they start.
struct Directory {
  uint64_t offset;
  uint64_t size;
  uint64_t count;
  uint64_t end;
};

// The classic end record: the last "PK\5\6" whose comment reaches exactly to the file's end.
Directory read_end_record(const FileReader& file) {
  const FileContext& context = file.context();
  const uint64_t size = file.size();
  context.check(size >= kEndBytes, "not a zip archive: it is ", size,
                " bytes long, shorter than a zip end record");
  const size_t tail_size = static_cast<size_t>(std::min<uint64_t>(size, kEndBytes + kMaxComment));
  const std::string tail = read_string(file, size - tail_size, tail_size, "the end record");
  const Record record(tail);
  for (size_t at = tail_size - kEndBytes + 1; at-- > 0;) {
    if (record.u32(at) != kEndSignature || at + kEndBytes + record.u16(at + 20) != tail_size)
      continue;
    context.check(record.u16(at + 4) == 0 && record.u16(at + 6) == 0 &&
                      record.u16(at + 8) == record.u16(at + 10),
                  "the archive spans several disks, which graft does not read");
    return {record.u32(at + 16), record.u32(at + 12), record.u16(at + 10), size - tail_size + at};
  }
  context.fail("not a zip archive: no end of central directory record in its last ", tail_size,
               " bytes (is the file truncated?)");
}

// The ZIP64 end record, when a locator lies right before the classic end record; the classic
// fields must hold either the marker or the same values.
Directory read_zip64_end_record(const FileReader& file, const Directory& classic) {
  const FileContext& context = file.context();
  if (classic.end < kZip64LocatorBytes) return classic;
  const uint64_t locator_offset = classic.end - kZip64LocatorBytes;
  const std::string locator_bytes =
      read_string(file, locator_offset, kZip64LocatorBytes, "the ZIP64 locator");
  const Record locator(locator_bytes);
  if (locator.u32(0) != kZip64LocatorSignature) return classic;
  context.check(locator.u32(4) == 0 && locator.u32(16) == 1,
                "the archive spans several disks, which graft does not read");
  const uint64_t offset = locator.u64(8);
  context.check(offset <= locator_offset && locator_offset - offset >= kZip64EndBytes,
                "the ZIP64 locator points to offset ", offset,
                ", where no ZIP64 end record fits before the locator at ", locator_offset);
  const std::string end_bytes = read_string(file, offset, kZip64EndBytes, "the ZIP64 end record");
  const Record end(end_bytes);
  context.check(end.u32(0) == kZip64EndSignature, "no ZIP64 end record at offset ", offset,
                ", where the ZIP64 locator points");
  context.check(end.u64(4) == locator_offset - offset - 12, "the ZIP64 end record at offset ",
                offset, " says it is ", end.u64(4) + 12, " bytes long, but the locator follows ",
                locator_offset - offset, " bytes after it");
  context.check(end.u32(16) == 0 && end.u32(20) == 0 && end.u64(24) == end.u64(32),
                "the archive spans several disks, which graft does not read");
  const Directory zip64{end.u64(48), end.u64(40), end.u64(32), offset};
  context.check((classic.count == kZip64Marker16 || classic.count == zip64.count) &&
                    (classic.size == kZip64Marker32 || classic.size == zip64.size) &&
                    (classic.offset == kZip64Marker32 || classic.offset == zip64.offset),
                "the end record and the ZIP64 end record disagree on the central directory");
  return zip64;
}

// Replaces `fields`, in order, with the 8-byte values of the ZIP64 extra field in `extra`.
void read_zip64_extra(const FileContext& context, std::string_view extra,
                      const std::vector<uint64_t*>& fields, const char* where) {
  bool found = false;
  while (!extra.empty()) {
    context.check(extra.size() >= 4, "the extra fields of ", where, " are malformed");
    const Record block(extra);
    const size_t length = block.u16(2);
    context.check(4 + length <= extra.size(), "an extra field of ", where,
                  " runs past the extra fields' end");
    if (block.u16(0) == kZip64ExtraId && !found) {
      found = true;
      context.check(length >= 8 * fields.size(), "the ZIP64 extra field of ", where, " holds ",
                    length, " bytes, short of the ", fields.size(), " 8-byte values it must give");
      for (size_t i = 0; i < fields.size(); ++i) *fields[i] = block.u64(4 + 8 * i);
    }
    extra.remove_prefix(4 + length);
  }
  context.check(found || fields.empty(), where,
                " has fields marked as ZIP64 (0xFFFFFFFF) but no ZIP64 extra field");
}

// The fields of `values` that hold the marker: those the ZIP64 extra field gives.
std::vector<uint64_t*> marked(std::initializer_list<uint64_t*> values) {
  std::vector<uint64_t*> out;
  for (uint64_t* value : values)
    if (*value == kZip64Marker32) out.push_back(value);
  return out;
}

// A central directory entry: the member, and its flags for the local header to match.
struct CentralEntry {
  ZipMember member;
  uint16_t flags;
};

// The central directory entry at `at`; advances `at` past it.
CentralEntry read_central_entry(const FileContext& file_context, const Record& directory,
                                uint64_t directory_size, uint64_t& at, uint64_t index) {
  file_context.check(directory_size - at >= kCentralEntryBytes,
                     "the central directory ends inside entry ", index);
  file_context.check(directory.u32(at) == kCentralEntrySignature, "entry ", index,
                     " of the central directory does not start with its signature");
  const size_t name_size = directory.u16(at + 28);
  const size_t extra_size = directory.u16(at + 30);
  const size_t comment_size = directory.u16(at + 32);
  file_context.check(
      directory_size - at - kCentralEntryBytes >= name_size + extra_size + comment_size, "entry ",
      index, " of the central directory runs past its end");
  ZipMember member;
  member.name = std::string(directory.bytes(at + kCentralEntryBytes, name_size));
  const FileContext context = member_context(file_context, member.name);
  const uint16_t flags = directory.u16(at + 8);
  const uint16_t method = directory.u16(at + 10);
  context.check((flags & kEncryptedFlags) == 0,
                "the member is encrypted, which graft does not read");
  context.check(method == kStored || method == kDeflated, "compression method ", method,
                " is not supported (graft reads 0, stored, and 8, deflate: what np.savez and "
                "np.savez_compressed write)");
  context.check(directory.u16(at + 34) == 0,
                "the member starts on another disk, which graft does not read");
  member.deflated = method == kDeflated;
  member.crc32 = directory.u32(at + 16);
  member.compressed_size = directory.u32(at + 20);
  member.size = directory.u32(at + 24);
  member.header_offset = directory.u32(at + 42);
  read_zip64_extra(context, directory.bytes(at + kCentralEntryBytes + name_size, extra_size),
                   marked({&member.size, &member.compressed_size, &member.header_offset}),
                   "its central directory entry");
  at += kCentralEntryBytes + name_size + extra_size + comment_size;
  return {std::move(member), flags};
}

// Checks `member` against its local header, which must lie before `directory_offset`, and
// sets its data offset.
void check_local_header(const FileReader& file, ZipMember& member, uint16_t flags,
                        uint64_t directory_offset) {
  const FileContext context = member_context(file.context(), member.name);
  const uint64_t offset = member.header_offset;
  context.check(offset <= directory_offset && directory_offset - offset >= kLocalHeaderBytes,
                "the local header's offset ", offset, " is not before the central directory at ",
                directory_offset);
  const std::string fixed = read_string(file, offset, kLocalHeaderBytes, "a local header");
  const Record header(fixed);
  context.check(header.u32(0) == kLocalHeaderSignature, "no local header at offset ", offset);
  const size_t name_size = header.u16(26);
  const size_t extra_size = header.u16(28);
  const uint64_t data_offset = offset + kLocalHeaderBytes + name_size + extra_size;
  context.check(data_offset <= directory_offset,
                "the local header runs into the central directory");
  const std::string variable =
      read_string(file, offset + kLocalHeaderBytes, name_size + extra_size, "a local header");
  context.check(variable.substr(0, name_size) == member.name, "the local header names it \"",
                variable.substr(0, name_size), "\"");
  context.check(header.u16(6) == flags && header.u16(8) == (member.deflated ? kDeflated : kStored),
                "the local header's flags or method differ from the central directory's");
  if ((flags & kDataDescriptorFlag) == 0) {
    uint64_t size = header.u32(22);
    uint64_t compressed_size = header.u32(18);
    // A local ZIP64 extra field holds both sizes whenever either is marked.
    const bool zip64 = size == kZip64Marker32 || compressed_size == kZip64Marker32;
    read_zip64_extra(
        context, std::string_view(variable).substr(name_size),
        zip64 ? std::vector<uint64_t*>{&size, &compressed_size} : std::vector<uint64_t*>{},
        "its local header");
    context.check(header.u32(14) == member.crc32 && size == member.size &&
                      compressed_size == member.compressed_size,
                  "the local header's CRC-32 or sizes differ from the central directory's");
  }
  context.check(member.compressed_size <= directory_offset - data_offset, "its ",
                member.compressed_size, " bytes of data from offset ", data_offset,
                " run into the central directory at ", directory_offset);
  member.data_offset = data_offset;
}

}  // namespace

FileContext member_context(const FileContext& context, const std::string& name) {
  return {context.op, context.path, "member \"" + name + "\""};
}

std::vector<ZipMember> read_zip_members(const FileReader& file) {
  const FileContext& context = file.context();
  const Directory directory = read_zip64_end_record(file, read_end_record(file));
  context.check(
      directory.offset <= directory.end && directory.end - directory.offset == directory.size,
      "the central directory (", directory.size, " bytes at offset ", directory.offset,
      ") does not end where the end records start, at ", directory.end);
  context.check(directory.count <= directory.size / kCentralEntryBytes, "the end record counts ",
                directory.count, " members, more than a central directory of ", directory.size,
                " bytes holds");
  const std::string bytes = read_string(file, directory.offset, static_cast<size_t>(directory.size),
                                        "the central directory");
  const Record record(bytes);
  std::vector<ZipMember> members;
  std::set<std::string> names;
  uint64_t at = 0;
  for (uint64_t i = 0; i < directory.count; ++i) {
    auto [member, flags] = read_central_entry(context, record, directory.size, at, i);
    const FileContext member_errors = member_context(context, member.name);
    member_errors.check(names.insert(member.name).second, "the name appears twice");
    member_errors.check(member.deflated || member.size == member.compressed_size,
                        "the member is stored, yet its size ", member.size,
                        " differs from its compressed size ", member.compressed_size);
    member_errors.check(member.size / kMaxDeflateRatio <= member.compressed_size, "its size is ",
                        member.size, " bytes, more than deflate can expand ",
                        member.compressed_size, " compressed bytes to");
    check_local_header(file, member, flags, directory.offset);
    members.push_back(std::move(member));
  }
  context.check(at == directory.size, directory.size - at,
                " bytes follow the last entry of the central directory");

  std::vector<const ZipMember*> by_offset;
  for (const ZipMember& member : members) by_offset.push_back(&member);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto* a, const auto* b) { return a->header_offset < b->header_offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const ZipMember& before = *by_offset[i - 1];
    context.check(before.data_offset + before.compressed_size <= by_offset[i]->header_offset,
                  "members \"", before.name, "\" and \"", by_offset[i]->name, "\" overlap");
  }
  return members;
}

ZipMemberSource::ZipMemberSource(const FileReader& file, const ZipMember& member)
    : ByteSource(member_context(file.context(), member.name)),
      file_(file),
      member_(member),
      next_input_(member.data_offset),
      crc32_(crc32_z(0, Z_NULL, 0)) {
  if (!member.deflated) return;
  inflater_ = std::make_unique<z_stream>();
  const int status = inflateInit2(inflater_.get(), -MAX_WBITS);  // raw deflate, no header
  if (status != Z_OK) {
    inflater_.reset();
    context().fail("zlib could not start inflating: ", zError(status));
  }
  input_.resize(static_cast<size_t>(std::min<uint64_t>(kInputChunk, member.compressed_size)));
}

ZipMemberSource::~ZipMemberSource() {
  if (inflater_) inflateEnd(inflater_.get());
}

size_t ZipMemberSource::inflate_into(uint8_t* out, size_t nbytes) {
  z_stream& stream = *inflater_;
  const uint64_t input_end = member_.data_offset + member_.compressed_size;
  size_t made = 0;
  while (made < nbytes && !ended_) {
    if (stream.avail_in == 0) {
      context().check(next_input_ < input_end,
                      "the deflate stream is cut short: it goes on past "
                      "the member's ",
                      member_.compressed_size, " compressed bytes");
      const auto chunk =
          static_cast<size_t>(std::min<uint64_t>(input_.size(), input_end - next_input_));
      file_.read(next_input_, input_.data(), chunk, "the compressed data");
      next_input_ += chunk;
      stream.next_in = input_.data();
      stream.avail_in = static_cast<uInt>(chunk);
    }
    // zlib counts its output in 32-bit unsigned ints.
    const auto chunk = static_cast<uInt>(std::min<size_t>(nbytes - made, UINT_MAX));
    stream.next_out = out + made;
    stream.avail_out = chunk;
    const int status = inflate(&stream, Z_NO_FLUSH);
    made += chunk - stream.avail_out;
    ended_ = status == Z_STREAM_END;
    context().check(ended_ || status == Z_OK, "the deflate data is corrupt (zlib: ",
                    stream.msg != nullptr ? stream.msg : zError(status), ")");
  }
  return made;
}

void ZipMemberSource::read(void* out, size_t nbytes, const char* what) {
  if (member_.deflated) {
    const size_t made = inflate_into(static_cast<uint8_t*>(out), nbytes);
    context().check(made == nbytes, "the deflate stream ends after ", position_ + made,
                    " bytes, short of the member's size of ", member_.size, " bytes");
  } else {
    file_.read(next_input_, out, nbytes, what);
    next_input_ += nbytes;
  }
  position_ += nbytes;
  crc32_ = crc32_z(crc32_, static_cast<const Bytef*>(out), nbytes);
}

void ZipMemberSource::finish() {
  if (member_.deflated) {
    uint8_t byte = 0;
    context().check(inflate_into(&byte, 1) == 0, "the deflate stream holds more than the member's ",
                    "size of ", member_.size, " bytes");
    const uint64_t unused =
        inflater_->avail_in + member_.data_offset + member_.compressed_size - next_input_;
    context().check(unused == 0, "the deflate stream ends ", unused,
                    " bytes before the member's compressed size of ", member_.compressed_size,
                    " bytes");
  }
  context().check(crc32_ == member_.crc32, "the CRC-32 of the data is ", hex32(crc32_),
                  ", but the archive says ", hex32(member_.crc32), ": the member is corrupted");
}

}  // namespace graft::io
