// Single tensors in NumPy's .npy format: graft::save_npy(tensor, path) and
// graft::load_npy(path), for exchanging arrays with NumPy (np.save / np.load).
//
// A .npy file is a magic string, a version, a header length, then a Python dict literal
// naming the dtype, the memory order and the shape, then the raw elements:
//
//   "\x93NUMPY" major minor    6 + 2 bytes (1.0, 2.0 or 3.0)
//   header length              uint16 LE in 1.0, uint32 LE in 2.0 and 3.0
//   header                     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//                              padded with spaces and a final '\n' to a multiple of 64 bytes
//   data                       numel * itemsize bytes, C or Fortran order
//
// load_npy() reads versions 1.0, 2.0 and 3.0 (3.0 only allows a UTF-8 header, which a
// numeric dtype never needs), the dtypes '<f4' '<f8' '<i4' '<i8' '|u1' '|b1', and both
// orders: a Fortran-order array comes back as a contiguous (row-major) tensor with the same
// element values. Object arrays would need pickle, which graft never runs. Every header
// field is validated, and the data must fill the rest of the file exactly.
//
// save_npy() writes version 1.0 (a header of graft's at most 16 dims always fits its
// 16-bit length), C order, copying CUDA or non-contiguous tensors first, atomically.
//
// The members of a .npz archive are .npy files, so npz.cpp builds on the two halves of
// these functions, which work on bytes rather than on a file: npy_header() and read_npy().
#pragma once

#include <filesystem>
#include <string>

#include "graft/core/tensor.h"

namespace graft {

void save_npy(const Tensor& tensor, const std::filesystem::path& path);

// The array of the .npy file at `path`, as a contiguous CPU tensor.
Tensor load_npy(const std::filesystem::path& path);

namespace io {

class ByteSource;

// The bytes that precede the data of `host` (a contiguous CPU tensor) in its .npy file: the
// magic string, the version, the header length and the header.
std::string npy_header(const Tensor& host);

// The array of the .npy bytes that `source` holds, read front to back; every error names
// source.context().
Tensor read_npy(ByteSource& source);

}  // namespace io

}  // namespace graft
