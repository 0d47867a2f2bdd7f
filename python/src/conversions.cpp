// Python values to graft's argument types, and the types every signature uses: dtype and
// device. Dtypes print as graft.float32 and devices as device(type='cuda', index=0), like
// PyTorch's.
#include <string>
#include <string_view>

#include "bindings.h"

namespace graft::python {

Scalar to_scalar(py::handle value) {
  PyObject* p = value.ptr();
  if (PyBool_Check(p)) return Scalar(p == Py_True);
  // NumPy's bool_ (numpy.bool in NumPy 2) is neither a Python bool nor an int.
  const std::string_view type_name = Py_TYPE(p)->tp_name;
  if (type_name == "numpy.bool_" || type_name == "numpy.bool")
    return Scalar(PyObject_IsTrue(p) == 1);
  if (PyLong_Check(p) || (PyIndex_Check(p) && !PyFloat_Check(p))) {
    int overflow = 0;
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(p));
    if (!index) throw py::error_already_set();
    const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow != 0)
      throw py::value_error("integer " + py::str(value).cast<std::string>() +
                            " does not fit in int64");
    return Scalar(static_cast<int64_t>(v));
  }
  if (PyFloat_Check(p) || py::hasattr(value, "__float__")) {
    const double v = PyFloat_AsDouble(p);
    if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return Scalar(v);
  }
  throw py::type_error("expected a Tensor or a number (bool, int, float), got " +
                       py::str(py::type::of(value)).cast<std::string>());
}

Shape to_shape(py::handle value, const char* what) {
  if (PyLong_Check(value.ptr())) return Shape({value.cast<int64_t>()});
  if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value))
    throw py::type_error(std::string(what) + " must be an int or a sequence of ints, got " +
                         py::str(py::type::of(value)).cast<std::string>());
  std::vector<int64_t> sizes;
  for (py::handle item : value) sizes.push_back(to_scalar(item).to<int64_t>());
  return Shape(sizes);
}

Shape shape_from_args(const py::args& args, const char* what) {
  if (args.size() == 1 && !PyLong_Check(args[0].ptr())) return to_shape(args[0], what);
  return to_shape(args, what);
}

Dims to_dims(const py::object& dim) { return dim.is_none() ? Dims{} : to_shape(dim, "dim"); }

std::vector<Tensor> to_tensors(const py::object& one_or_many, bool allow_none) {
  if (py::isinstance<Tensor>(one_or_many)) return {one_or_many.cast<Tensor>()};
  std::vector<Tensor> tensors;
  for (const py::handle item : py::iter(one_or_many))
    tensors.push_back(allow_none && item.is_none() ? Tensor() : item.cast<Tensor>());
  return tensors;
}

TensorOptions make_options(const std::optional<DType>& dtype, const std::optional<Device>& device) {
  TensorOptions options;
  if (dtype) options = options.dtype(*dtype);
  if (device) options = options.device(*device);
  return options;
}

void bind_types(py::module_& m) {
  py::enum_<DType> dtype(m, "dtype");
  for (int i = 0; i < kNumDTypes; ++i) {
    const auto d = static_cast<DType>(i);
    dtype.value(dtype_name(d), d);
    m.attr(dtype_name(d)) = d;  // graft.float32, graft.bool ...
  }
  // Replaces enum_'s own repr and str (a plain def would only add an overload after them).
  for (const char* name : {"__repr__", "__str__"}) {
    py::delattr(dtype, name);
    dtype.def(name, [](DType d) { return std::string("graft.") + dtype_name(d); });
  }
  dtype.def_property_readonly("is_floating_point", [](DType d) { return is_floating_point(d); });
  dtype.def_property_readonly("itemsize", [](DType d) { return element_size(d); });
  m.def("get_default_dtype", &get_default_dtype);
  m.def("set_default_dtype", &set_default_dtype, py::arg("dtype"));

  py::class_<Device>(m, "device")
      .def(py::init<const std::string&>(), py::arg("spec"))
      .def(py::init([](const std::string& type, int index) {
             return Device(Device(type).type(), index);
           }),
           py::arg("type"), py::arg("index"))
      .def_property_readonly("type", [](Device d) { return d.is_cuda() ? "cuda" : "cpu"; })
      .def_property_readonly("index", &Device::index)
      .def("__str__", &Device::str)
      .def("__repr__",
           [](Device d) {
             return std::string("device(type='") + (d.is_cuda() ? "cuda" : "cpu") +
                    (d.is_cuda() ? "', index=" + std::to_string(d.index()) + ")" : "')");
           })
      .def("__eq__", [](Device a, Device b) { return a == b; })
      .def("__hash__", [](Device d) { return std::hash<std::string>()(d.str()); });
  py::implicitly_convertible<py::str, Device>();

  py::module_ cuda = m.def_submodule("cuda", "the CUDA side of graft");
  cuda.def("is_available", &cuda::is_available);
  cuda.def("device_count", &cuda::device_count);
  cuda.def("synchronize", &cuda::synchronize);

  m.def("manual_seed", &manual_seed, py::arg("seed"));
  m.def("is_grad_enabled", &autograd::GradMode::is_enabled);
  m.def("set_grad_enabled", &autograd::GradMode::set_enabled, py::arg("mode"));
  // torch.autograd.grad: outputs and inputs a tensor or a sequence of them; a tuple back,
  // None for an input the outputs do not reach when allow_unused.
  py::module_ autograd_module = m.def_submodule("autograd", "gradients without backward()");
  autograd_module.def(
      "grad",
      [](const py::object& outputs, const py::object& inputs, const py::object& grad_outputs,
         std::optional<bool> retain_graph, bool create_graph, bool allow_unused) {
        const autograd::TensorList grads = autograd::grad(
            to_tensors(outputs), to_tensors(inputs),
            {.grad_outputs = grad_outputs.is_none() ? autograd::TensorList{}
                                                    : to_tensors(grad_outputs, /*allow_none=*/true),
             .retain_graph = retain_graph,
             .create_graph = create_graph,
             .allow_unused = allow_unused});
        py::tuple out(grads.size());
        for (size_t i = 0; i < grads.size(); ++i)
          out[i] = grads[i].defined() ? py::cast(grads[i]) : py::none();
        return out;
      },
      py::arg("outputs"), py::arg("inputs"), py::arg("grad_outputs") = py::none(),
      py::arg("retain_graph") = py::none(), py::arg("create_graph") = false,
      py::arg("allow_unused") = false);
  // Autocast's guard, for graft.autocast (graft/__init__.py), which makes it a context
  // manager; device_type as torch.autocast spells it, "cpu" or "cuda".
  py::class_<AutocastGuard>(m, "_AutocastGuard")
      .def(py::init([](const std::string& device_type, std::optional<DType> dtype, bool enabled) {
             return std::make_unique<AutocastGuard>(Device(device_type).type(), dtype, enabled);
           }),
           py::arg("device_type"), py::arg("dtype") = py::none(), py::arg("enabled") = true);
  m.def(
      "is_autocast_enabled",
      [](const std::string& device_type) {
        return is_autocast_enabled(Device(device_type).type());
      },
      py::arg("device_type") = "cuda");
  m.def(
      "get_autocast_dtype",
      [](const std::string& device_type) { return get_autocast_dtype(Device(device_type).type()); },
      py::arg("device_type"));
}

}  // namespace graft::python
