// IdxFile: reads the IDX format of the MNIST family of datasets, plain or gzip-compressed.
//
// An IDX file is a 4-byte magic number, then one big-endian uint32 per dim, then the
// elements in row-major order, big-endian:
//
//   bytes 0-1   0x00 0x00
//   byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
//               0x0D float32, 0x0E float64
//   byte  3     number of dims
//   then        dims[0], dims[1], ... as big-endian uint32
//   then        prod(dims) elements, big-endian
//
// A file that starts with gzip's magic bytes (0x1f 0x8b) is inflated with zlib first,
// whatever its name; an IDX file starts with 0x00, so the two cannot be confused. Every
// header field is validated against the bytes actually present, and any disagreement is a
// graft::Error naming the file and the problem; a corrupted file never crashes or allocates
// more than the file could describe.
//
// graft has no int8 or int16 dtype, so those two types are widened to int32 (losslessly);
// the other four keep their type.
#pragma once

#include <cstdint>
#include <filesystem>

#include "graft/core/tensor.h"

namespace graft::data {

class IdxFile {
 public:
  // Reads and validates the whole file; throws graft::Error on any problem.
  explicit IdxFile(std::filesystem::path path);

  const std::filesystem::path& path() const { return path_; }
  // The element type code of the file (0x08 ... 0x0E), before any widening.
  uint8_t type_code() const { return type_code_; }
  // The elements as a contiguous CPU tensor of the file's dims: (60000, 28, 28) uint8 for
  // Fashion-MNIST's training images, (60000,) uint8 for its labels.
  const Tensor& tensor() const { return tensor_; }

 private:
  std::filesystem::path path_;
  uint8_t type_code_ = 0;
  Tensor tensor_;
};

// The elements of the IDX file at `path`: IdxFile(path).tensor().
Tensor read_idx(const std::filesystem::path& path);

}  // namespace graft::data
