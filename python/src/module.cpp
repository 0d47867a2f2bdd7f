// The extension module graft._C: everything the Python package `graft` wraps. Errors that
// graft throws arrive as graft.Error, a RuntimeError as PyTorch's errors are; its warnings
// (graft::warn) as Python's UserWarning, which `warnings` filters like any other.
#include "bindings.h"

PYBIND11_MODULE(_C, m) {
  namespace py = pybind11;
  m.doc() = "graft: NumPy on the GPU plus autograd, from C++ (the compiled part)";
  const auto& error = py::register_exception<graft::Error>(m, "Error", PyExc_RuntimeError);
  // graft::IndexError arrives as a graft.Error that is also Python's IndexError, as
  // PyTorch's index errors are IndexErrors. Private (_IndexError), so that `from graft import
  // *` cannot shadow the builtin. pybind11 tries the translator registered last first.
  m.attr("_IndexError") = py::reinterpret_steal<py::object>(PyErr_NewException(
      "graft.IndexError", py::make_tuple(error, py::handle(PyExc_IndexError)).ptr(), nullptr));
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const graft::IndexError& e) {
      PyErr_SetString(py::module_::import("graft._C").attr("_IndexError").ptr(), e.what());
    }
  });
  graft::python::bind_types(m);
  graft::python::bind_tensor(m);
  graft::python::bind_functions(m);
  graft::python::bind_interop(m);
  graft::python::bind_nn(m);
  graft::python::bind_optim(m);
  graft::python::bind_io(m);
  graft::python::bind_data(m);

  // A warning raised as an error (warnings.simplefilter("error")) propagates out of the
  // graft call that warned. The handler goes before the interpreter does.
  graft::set_warning_handler([](const std::string& message) {
    const py::gil_scoped_acquire gil;
    if (PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1) != 0) throw py::error_already_set();
  });
  py::module_::import("atexit").attr("register")(
      py::cpp_function([] { graft::set_warning_handler({}); }));
}
