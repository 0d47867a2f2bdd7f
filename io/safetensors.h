// Checkpoints in the safetensors format (Hugging Face), readable by Python's `safetensors`
// and written by it: graft::save(state_dict, path) and graft::load(path).
//
// The file layout (docs/serialization.md has the details):
//
//   8 bytes     N, the header length, little-endian uint64
//   N bytes     a JSON object: {"__metadata__": {"format": "pt", ...},
//                               "<name>": {"dtype": "F32", "shape": [2, 3],
//                                          "data_offsets": [begin, end]}, ...}
//               padded with spaces so that the data starts at a multiple of 8
//   the rest    every tensor's bytes, row-major, little-endian; offsets count from here
//
// save() writes tensors by element size (largest first), then by name, so each tensor
// starts aligned to its element size (as the Rust safetensors writer does); it copies
// CUDA tensors to the host and writes non-contiguous ones contiguously; the write is
// atomic (file_io.h). load() validates every field and returns contiguous CPU tensors.
// dtypes: BOOL U8 I32 I64 F32 F64; a file holding another (F16, BF16, ...) is an error.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "graft/io/state_dict.h"

namespace graft {

// The string-to-string "__metadata__" of a safetensors file.
using Metadata = std::map<std::string, std::string>;

// Writes `tensors` to `path` with `metadata` plus {"format": "pt"} (the key "format" is
// reserved for that). Throws graft::Error naming the path when it cannot be written.
void save(const StateDict& tensors, const std::filesystem::path& path,
          const Metadata& metadata = {});

// Reads every tensor of the safetensors file at `path` as a contiguous CPU tensor.
StateDict load(const std::filesystem::path& path);

// The "__metadata__" of the file at `path` (empty when it has none); the whole header is
// validated as by load(), the tensor data is not read.
Metadata load_metadata(const std::filesystem::path& path);

}  // namespace graft
