// The file plumbing under graft's checkpoint formats (safetensors.h, npy.h, npz.h): errors
// that name the function and the file, an atomic writer, a bounds-checked reader, byte
// sources read front to back, and the one routine that reads a tensor's bytes.
//
// Atomic writes: a checkpoint is written to `<path>.tmp.<pid>`, fsync'ed, then renamed over
// `path`. rename() within a folder is atomic on POSIX, so a reader (or a crash mid-write)
// sees either the old file whole or the new one whole, never half of one; the pid keeps two
// processes writing the same checkpoint from sharing a temporary file.
//
// Formats are little-endian on disk; graft reads and writes raw bytes, so it builds only
// for little-endian hosts (a static_assert in file_io.cpp says so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graft/core/error.h"
#include "graft/core/tensor.h"

namespace graft::io {

// Who is reading or writing which file: every error starts "op(): "path": ", followed by
// `part` when the error is about one part of an archive ("member \"w.npy\": ").
struct FileContext {
  const char* op;
  std::filesystem::path path;
  std::string part = {};

  template <class... Args>
  [[noreturn]] void fail(const Args&... args) const {
    if (part.empty()) detail::fail(op, ": ", path, ": ", args...);
    detail::fail(op, ": ", path, ": ", part, ": ", args...);
  }
  template <class... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) [[unlikely]]
      fail(args...);
  }
};

// Writes `context.path` atomically: bytes go to a temporary file in the same folder, and
// commit() makes them the file. Destroyed without commit() (an error midway), it removes
// the temporary file and leaves any existing file at `path` untouched.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(FileContext context);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t nbytes);
  // Bytes written so far: the offset of the next write().
  uint64_t position() const { return position_; }
  // Rewrites bytes already written at `offset` (a header whose sizes were not known yet).
  void overwrite(uint64_t offset, const void* data, size_t nbytes);
  // fsync, close, rename over the destination.
  void commit();

 private:
  FileContext context_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  uint64_t position_ = 0;
};

// A regular file opened for reading at given offsets; a read past the end is an error.
class FileReader {
 public:
  explicit FileReader(FileContext context);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const FileContext& context() const { return context_; }
  uint64_t size() const { return size_; }
  // Reads exactly `nbytes` at `offset`; `what` names the part for the error ("the header").
  void read(uint64_t offset, void* out, size_t nbytes, const char* what) const;

 private:
  FileContext context_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Bytes read front to back, as the .npy reader takes them: a region of a file (FileRegion),
// or a member of a zip archive, inflated as it is read (zip.h). Errors name `context()`.
class ByteSource {
 public:
  explicit ByteSource(FileContext context) : context_(std::move(context)) {}
  virtual ~ByteSource() = default;

  const FileContext& context() const { return context_; }
  // How many bytes the source holds in all, read or not.
  virtual uint64_t size() const = 0;
  // The next `nbytes`; the caller has checked against size() that they are there.
  virtual void read(void* out, size_t nbytes, const char* what) = 0;

 private:
  FileContext context_;
};

// `size` bytes of `file` from `offset`, which the caller has checked are in the file.
class FileRegion final : public ByteSource {
 public:
  FileRegion(const FileReader& file, uint64_t offset, uint64_t size)
      : ByteSource(file.context()), file_(file), offset_(offset), size_(size) {}

  uint64_t size() const override { return size_; }
  void read(void* out, size_t nbytes, const char* what) override;

 private:
  const FileReader& file_;
  uint64_t offset_;
  uint64_t size_;
};

// `sizes` as a Shape, or an error naming `what` when there are more than kMaxDims, a size
// is negative, or the byte size of the tensor overflows int64: sizes come from untrusted
// files, and every later computation relies on numel() * element size being exact.
Shape checked_shape(const FileContext& context, const std::vector<int64_t>& sizes, DType dtype,
                    const std::string& what);

// A fresh contiguous CPU tensor of `shape`, its bytes the next ones of `source`. Booleans
// are checked to be 0 or 1 (any other byte is not a valid C++ bool). The caller has checked
// that the source holds numel * element size more bytes.
Tensor read_tensor(ByteSource& source, const Shape& shape, DType dtype, const std::string& what);

// `t` as a contiguous CPU tensor, ready to be written byte for byte.
Tensor host_contiguous(const Tensor& t);

}  // namespace graft::io
