// The ZIP container under .npz (npz.h): a reader of an archive's member list, a source that
// reads one member's bytes (inflating them) and checks their CRC-32, and a writer. Only what
// np.savez and np.savez_compressed need, from PKWARE's APPNOTE:
//
//   per member   local header, name, extra fields; then the data, stored or raw deflate
//   at the end   the central directory, one entry per member (the local header's fields
//                again, and its offset); the end records: ZIP64's, when the sizes, the
//                offsets or the member count need 64 bits, then the classic one
//
// Reading trusts nothing: methods other than stored (0) and deflate (8), encryption and
// archives split over disks are errors; every offset and size is checked against the file,
// each local header against its central directory entry; members may not overlap; a
// deflated member may not claim more bytes than deflate can expand its compressed bytes to,
// so no allocation exceeds 1032 times the file's size; inflating stops at the declared size
// and fails when the stream is shorter or longer; the CRC-32 must match.
//
// Writing always uses the ZIP64 fields (NumPy puts ZIP64 sizes in every local header too):
// one layout for every size, so that the tests exercise the layout of a 10 GB array as well.
// The timestamp is NumPy's, 1980-01-01 00:00: the same arrays give the same file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graft/io/file_io.h"

struct z_stream_s;  // zlib's stream: zlib stays a private dependency of graft_io

namespace graft::io {

// The numbers both sides of the format share.
namespace zip {
constexpr uint32_t kLocalHeaderSignature = 0x04034b50;   // "PK\3\4"
constexpr uint32_t kCentralEntrySignature = 0x02014b50;  // "PK\1\2"
constexpr uint32_t kZip64EndSignature = 0x06064b50;      // "PK\6\6"
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;  // "PK\6\7"
constexpr uint32_t kEndSignature = 0x06054b50;           // "PK\5\6"
// The fixed parts of the records, before their variable-length fields.
constexpr size_t kLocalHeaderBytes = 30;
constexpr size_t kCentralEntryBytes = 46;
constexpr size_t kZip64EndBytes = 56;
constexpr size_t kZip64LocatorBytes = 20;
constexpr size_t kEndBytes = 22;
// A classic field holding this says "the value is in the ZIP64 extra field or end record".
constexpr uint32_t kZip64Marker32 = 0xFFFFFFFF;
constexpr uint16_t kZip64Marker16 = 0xFFFF;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflated = 8;
// General purpose flags: the name is UTF-8 (else IBM437, which ASCII names are too).
constexpr uint16_t kUtf8Flag = 1 << 11;
}  // namespace zip

// A member as its central directory entry describes it, checked against its local header.
struct ZipMember {
  std::string name;
  bool deflated;
  uint32_t crc32;
  uint64_t compressed_size;
  uint64_t size;  // uncompressed
  uint64_t header_offset;
  uint64_t data_offset;  // where the stored or deflated bytes start
};

// `context` narrowed to one member: its errors start `op(): "path": member "name": `.
FileContext member_context(const FileContext& context, const std::string& name);

// The members of the zip archive `file`, in the central directory's order, names unique.
std::vector<ZipMember> read_zip_members(const FileReader& file);

// One member's uncompressed bytes, read front to back.
class ZipMemberSource final : public ByteSource {
 public:
  ZipMemberSource(const FileReader& file, const ZipMember& member);
  ~ZipMemberSource() override;
  ZipMemberSource(const ZipMemberSource&) = delete;
  ZipMemberSource& operator=(const ZipMemberSource&) = delete;

  uint64_t size() const override { return member_.size; }
  void read(void* out, size_t nbytes, const char* what) override;
  // Once all size() bytes are read: the deflate stream ends there and uses up exactly the
  // compressed bytes, and the CRC-32 matches.
  void finish();

 private:
  // Inflates into `out` until `nbytes` are made or the stream ends; returns the bytes made.
  size_t inflate_into(uint8_t* out, size_t nbytes);

  const FileReader& file_;
  ZipMember member_;
  uint64_t next_input_;    // the file offset of the next stored or compressed byte
  uint64_t position_ = 0;  // uncompressed bytes read so far
  unsigned long crc32_;
  std::unique_ptr<z_stream_s> inflater_;  // deflated members only
  std::vector<uint8_t> input_;
  bool ended_ = false;
};

// A zip archive written atomically (file_io.h), member by member; commit() ends it.
class ZipWriter {
 public:
  ZipWriter(FileContext context, bool deflate);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  struct Piece {
    const void* data;
    size_t nbytes;
  };
  // A member whose bytes are `pieces` one after another (a .npy header, then the data);
  // `name` is at most 65535 bytes (the caller checks).
  void add(const std::string& name, const std::vector<Piece>& pieces);
  // The central directory and the end records; then the file takes its place.
  void commit();

 private:
  // Deflates `piece` and writes what comes out; `flush` is zlib's Z_NO_FLUSH or Z_FINISH.
  void write_deflated(const Piece& piece, int flush);

  FileContext context_;
  AtomicFileWriter out_;
  std::unique_ptr<z_stream_s> deflater_;  // when deflating
  std::vector<ZipMember> members_;
  std::vector<uint8_t> output_;
};

}  // namespace graft::io
