// The file plumbing under graft's checkpoint formats (safetensors.h, npy.h): errors that
// name the function and the file, an atomic writer, a bounds-checked reader, and the one
// routine that reads a tensor's bytes.
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

// Who is reading or writing which file: every error starts "op(): "path": ".
struct FileContext {
  const char* op;
  std::filesystem::path path;

  template <class... Args>
  [[noreturn]] void fail(const Args&... args) const {
    detail::fail(op, ": ", path, ": ", args...);
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
  // fsync, close, rename over the destination.
  void commit();

 private:
  FileContext context_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
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

// `sizes` as a Shape, or an error naming `what` when there are more than kMaxDims, a size
// is negative, or the byte size of the tensor overflows int64: sizes come from untrusted
// files, and every later computation relies on numel() * element size being exact.
Shape checked_shape(const FileContext& context, const std::vector<int64_t>& sizes, DType dtype,
                    const std::string& what);

// A fresh contiguous CPU tensor of `shape` read from `nbytes` at `offset`. Booleans are
// checked to be 0 or 1 (any other byte is not a valid C++ bool). The caller has checked
// that the bytes are in the file and that nbytes == numel * element size.
Tensor read_tensor(const FileReader& file, uint64_t offset, const Shape& shape, DType dtype,
                   const std::string& what);

// `t` as a contiguous CPU tensor, ready to be written byte for byte.
Tensor host_contiguous(const Tensor& t);

}  // namespace graft::io
