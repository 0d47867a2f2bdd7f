// graft.data: TensorDataset, FashionMNIST and the DataLoader, iterated as in PyTorch
// (`for x, y in loader:`). Batches are built by graft's C++ prefetch thread, which never
// touches Python objects; a loader keeps its dataset alive.
#include <memory>
#include <string>

#include "bindings.h"

namespace graft::python {
namespace {

// One epoch of a DataLoader as a Python iterator: begin() has the first batch ready.
class EpochIterator {
 public:
  explicit EpochIterator(data::DataLoader& loader) : it_(loader.begin()) {}

  py::tuple next() {
    if (!first_) ++it_;
    first_ = false;
    if (it_ == std::default_sentinel) throw py::stop_iteration();
    return py::make_tuple(it_->x, it_->y);
  }

 private:
  data::DataLoader::Iterator it_;
  bool first_ = true;
};

}  // namespace

void bind_data(py::module_& m) {
  py::module_ data_module = m.def_submodule("data", "datasets and batching");
  py::class_<data::Dataset, std::shared_ptr<data::Dataset>>(data_module, "Dataset")
      .def("__len__", &data::Dataset::size)
      .def("__getitem__", [](const data::Dataset& d, int64_t i) {
        const data::Example e = d.get(i);
        return py::make_tuple(e.x, e.y);
      });
  py::class_<data::TensorDataset, data::Dataset, std::shared_ptr<data::TensorDataset>>(
      data_module, "TensorDataset")
      .def(py::init<Tensor, Tensor>(), py::arg("x"), py::arg("y"))
      .def_property_readonly("x", &data::TensorDataset::x)
      .def_property_readonly("y", &data::TensorDataset::y);
  py::class_<data::FashionMNIST, data::TensorDataset, std::shared_ptr<data::FashionMNIST>>(
      data_module, "FashionMNIST")
      .def(py::init([](const std::optional<std::string>& root, bool train, bool normalize) {
             const auto split = train ? data::Split::Train : data::Split::Test;
             const std::filesystem::path dir =
                 root ? std::filesystem::path(*root) : data::FashionMNIST::default_root();
             return normalize ? data::FashionMNIST(dir, split, data::Normalize())
                              : data::FashionMNIST(dir, split);
           }),
           py::arg("root") = py::none(), py::arg("train") = true, py::arg("normalize") = true,
           "Fashion-MNIST from root (default: $GRAFT_DATA or Debian's "
           "/usr/share/datasets/fashion-mnist); x (1, 28, 28) float32, y int64.")
      .def_property_readonly_static(
          "classes", [](const py::object&) { return data::FashionMNIST::class_names(); });

  py::class_<EpochIterator>(data_module, "_EpochIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &EpochIterator::next);
  py::class_<data::DataLoader>(data_module, "DataLoader")
      .def(py::init([](const data::Dataset& dataset, int64_t batch_size, bool shuffle,
                       bool drop_last, uint64_t seed) {
             data::DataLoaderOptions options;
             options.drop_last = drop_last;
             options.seed = seed;
             return std::make_unique<data::DataLoader>(dataset, batch_size, shuffle, options);
           }),
           py::arg("dataset"), py::arg("batch_size") = 1, py::arg("shuffle") = false,
           py::arg("drop_last") = false, py::arg("seed") = 0, py::keep_alive<1, 2>())
      .def("__len__", &data::DataLoader::size)
      .def(
          "__iter__", [](data::DataLoader& loader) { return EpochIterator(loader); },
          py::keep_alive<0, 1>())
      .def_property("epoch", &data::DataLoader::epoch, &data::DataLoader::set_epoch);
}

}  // namespace graft::python
