// Several named arrays in one file, in NumPy's .npz format: graft::save_npz(arrays, path) and
// graft::load_npz(path), for exchanging them with NumPy (np.savez, np.savez_compressed,
// np.load).
//
// A .npz file is a zip archive with one .npy file (npy.h) per array, named after the array
// with ".npy" appended: np.savez("x.npz", w=w, b=b) writes the members "w.npy" and "b.npy",
// and np.load("x.npz").files lists ["w", "b"]. np.savez stores the members as they are;
// np.savez_compressed deflates them (save_npz_compressed()).
//
//   graft::save_npz({{"w", w}, {"b", b}}, "x.npz");   // np.load("x.npz")["w"] in Python
//   for (auto& [name, t] : graft::load_npz("y.npz"))  // from np.savez("y.npz", ...)
//
// Arrays keep their order, as NumPy keeps the order of its keyword arguments, so they are a
// vector of pairs rather than a StateDict (a sorted map): NamedTensors(sd.begin(), sd.end())
// makes one of a StateDict.
//
// A name is a path inside the archive, so it must be one that extracts inside a folder:
// not empty, no NUL byte, at most 65531 bytes (the zip field's 65535 less ".npy"), and made
// of '/'-separated parts that are neither empty nor "." nor ".." ("encoder/w" is fine, as
// it is for NumPy; "/w", "a//b" and "../w" are not). A name may appear only once.
//
// save_npz() and save_npz_compressed() validate every name first, then write each array as
// save_npy() does (version 1.0, C order; CUDA and non-contiguous tensors are copied to a
// contiguous host tensor first, one at a time), atomically (file_io.h). load_npz() returns
// contiguous CPU tensors in the archive's order; it reads stored and deflated members, the
// ZIP64 fields NumPy writes, and every .npy that load_npy() reads; it validates the archive
// as zip.h describes and each member as load_npy() validates a file, and its errors name
// the file and the member.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "graft/core/tensor.h"

namespace graft {

// Named tensors in order: the arrays of a .npz file.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// np.savez: each array a stored (uncompressed) member.
void save_npz(const NamedTensors& arrays, const std::filesystem::path& path);

// np.savez_compressed: each array a deflated member (zlib's default level, as NumPy's).
void save_npz_compressed(const NamedTensors& arrays, const std::filesystem::path& path);

// The arrays of the .npz file at `path`, in its order, named without the ".npy".
NamedTensors load_npz(const std::filesystem::path& path);

}  // namespace graft
