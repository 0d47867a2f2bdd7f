// Files: graft.save / graft.load (safetensors, readable by Python's safetensors package)
// and graft.save_npz / graft.load_npz (NumPy's .npz, member order kept), all as dicts.
#include <string>
#include <utility>

#include "bindings.h"

namespace graft::python {
namespace {

NamedTensors to_named(const py::dict& arrays) {
  NamedTensors named;
  for (const auto& [name, tensor] : arrays)
    named.emplace_back(name.cast<std::string>(), tensor.cast<Tensor>());
  return named;
}

}  // namespace

void bind_io(py::module_& m) {
  m.def(
      "save", [](const StateDict& tensors, const std::string& path) { save(tensors, path); },
      py::arg("state_dict"), py::arg("path"),
      "Writes the tensors as a safetensors file, atomically.");
  m.def(
      "load", [](const std::string& path) { return load(path); }, py::arg("path"),
      "Reads a safetensors file: {name: CPU tensor}.");
  m.def(
      "save_npz",
      [](const std::string& path, const py::dict& arrays, bool compressed) {
        if (compressed) {
          save_npz_compressed(to_named(arrays), path);
        } else {
          save_npz(to_named(arrays), path);
        }
      },
      py::arg("path"), py::arg("arrays"), py::arg("compressed") = false,
      "Writes {name: tensor} as NumPy's .npz (np.savez, or np.savez_compressed), atomically.");
  m.def(
      "load_npz",
      [](const std::string& path) {
        py::dict out;
        for (const auto& [name, tensor] : load_npz(path)) out[py::str(name)] = tensor;
        return out;
      },
      py::arg("path"), "Reads a .npz file: {name: CPU tensor}, in the file's order.");
}

}  // namespace graft::python
