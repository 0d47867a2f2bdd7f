// The extension module graft._C: everything the Python package `graft` wraps. Errors that
// graft throws arrive as graft.Error, a RuntimeError as PyTorch's errors are.
#include "bindings.h"

PYBIND11_MODULE(_C, m) {
  namespace py = pybind11;
  m.doc() = "graft: NumPy on the GPU plus autograd, from C++ (the compiled part)";
  py::register_exception<graft::Error>(m, "Error", PyExc_RuntimeError);
  graft::python::bind_types(m);
  graft::python::bind_tensor(m);
  graft::python::bind_functions(m);
  graft::python::bind_interop(m);
  graft::python::bind_nn(m);
  graft::python::bind_optim(m);
  graft::python::bind_io(m);
  graft::python::bind_data(m);
}
