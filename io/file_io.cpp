// POSIX file descriptors rather than iostreams: fsync needs the descriptor, and pread reads
// at an offset without a seek state that a failed read could leave behind.
#include "graft/io/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string>

namespace graft::io {

static_assert(std::endian::native == std::endian::little,
              "graft's file formats are little-endian and are read and written as raw bytes");

namespace {

std::string errno_text() { return std::strerror(errno); }

// Retries the calls a signal can interrupt.
template <class Fn>
auto retry_on_eintr(Fn&& fn) {
  decltype(fn()) result;
  do {
    result = fn();
  } while (result < 0 && errno == EINTR);
  return result;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(FileContext context) : context_(std::move(context)) {
  temp_path_ = context_.path;
  temp_path_ += ".tmp." + std::to_string(::getpid());
  fd_ = retry_on_eintr(
      [&] { return ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); });
  context_.check(fd_ >= 0, "cannot create the temporary file ", temp_path_, ": ", errno_text(),
                 " (does the folder exist, and may this process write to it?)");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t nbytes) {
  const char* p = static_cast<const char*>(data);
  while (nbytes > 0) {
    const ssize_t written = retry_on_eintr([&] { return ::write(fd_, p, nbytes); });
    context_.check(written > 0, "cannot write to ", temp_path_, ": ", errno_text());
    p += written;
    nbytes -= static_cast<size_t>(written);
    position_ += static_cast<uint64_t>(written);
  }
}

void AtomicFileWriter::overwrite(uint64_t offset, const void* data, size_t nbytes) {
  const char* p = static_cast<const char*>(data);
  while (nbytes > 0) {
    const ssize_t written =
        retry_on_eintr([&] { return ::pwrite(fd_, p, nbytes, static_cast<off_t>(offset)); });
    context_.check(written > 0, "cannot write to ", temp_path_, ": ", errno_text());
    p += written;
    offset += static_cast<uint64_t>(written);
    nbytes -= static_cast<size_t>(written);
  }
}

void AtomicFileWriter::commit() {
  // fsync before rename: otherwise a crash soon after could leave the new name pointing at
  // data that never reached the disk.
  context_.check(retry_on_eintr([&] { return ::fsync(fd_); }) == 0, "cannot flush ", temp_path_,
                 " to disk: ", errno_text());
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0 || std::rename(temp_path_.c_str(), context_.path.c_str()) != 0) {
    const std::string reason = errno_text();
    ::unlink(temp_path_.c_str());
    context_.fail("cannot move the finished temporary file ", temp_path_, " into place: ", reason);
  }
}

FileReader::FileReader(FileContext context) : context_(std::move(context)) {
  fd_ = retry_on_eintr([&] { return ::open(context_.path.c_str(), O_RDONLY | O_CLOEXEC); });
  context_.check(fd_ >= 0, "cannot open the file: ", errno_text());
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd_);
    context_.fail("not a regular file");
  }
  size_ = static_cast<uint64_t>(info.st_size);
}

FileReader::~FileReader() { ::close(fd_); }

void FileReader::read(uint64_t offset, void* out, size_t nbytes, const char* what) const {
  char* p = static_cast<char*>(out);
  while (nbytes > 0) {
    const ssize_t got =
        retry_on_eintr([&] { return ::pread(fd_, p, nbytes, static_cast<off_t>(offset)); });
    context_.check(got >= 0, "cannot read ", what, ": ", errno_text());
    // The callers check sizes against size() first, so this means the file shrank meanwhile.
    context_.check(got > 0, "the file ended while reading ", what,
                   " (was it truncated while being read?)");
    p += got;
    offset += static_cast<uint64_t>(got);
    nbytes -= static_cast<size_t>(got);
  }
}

void FileRegion::read(void* out, size_t nbytes, const char* what) {
  file_.read(offset_, out, nbytes, what);
  offset_ += nbytes;
}

Shape checked_shape(const FileContext& context, const std::vector<int64_t>& sizes, DType dtype,
                    const std::string& what) {
  context.check(static_cast<int64_t>(sizes.size()) <= kMaxDims, what, " has ", sizes.size(),
                " dims; graft tensors have at most ", kMaxDims);
  for (const int64_t size : sizes)
    context.check(size >= 0, what, " has a negative size ", size, " in its shape");
  const Shape shape(sizes);
  context.check(contiguous_nbytes(shape, element_size(dtype)).has_value(), what, " has the shape ",
                shape, ", whose byte size overflows 64 bits");
  return shape;
}

Tensor read_tensor(ByteSource& source, const Shape& shape, DType dtype, const std::string& what) {
  Tensor t = empty(shape, dtype);
  const std::string part = "the data of " + what;
  source.read(t.data_ptr(), static_cast<size_t>(t.nbytes()), part.c_str());
  if (dtype == kBool) {
    // Inspect the bytes as bytes: reading a bool that is neither 0 nor 1 is undefined.
    const auto* bytes = static_cast<const uint8_t*>(t.data_ptr());
    for (int64_t i = 0; i < t.numel(); ++i) {
      source.context().check(bytes[i] <= 1, what, " is boolean but element ", i, " is the byte ",
                             static_cast<int>(bytes[i]), "; booleans must be stored as 0 or 1");
    }
  }
  return t;
}

Tensor host_contiguous(const Tensor& t) { return t.cpu().contiguous(); }

}  // namespace graft::io
