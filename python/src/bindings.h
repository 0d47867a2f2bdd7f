// What the binding files of the Python module share: the conversions from Python values to
// graft's argument types, and one bind_* function per file.
//
// Numbers cross as graft::Scalar with PyTorch's categories (bool, int -> int64, float ->
// float64 category); shapes and dims come as an int, a tuple/list of ints, or varargs
// (t.reshape(2, 3) and t.reshape((2, 3)) both work, as in PyTorch).
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <vector>

#include "graft/graft.h"

namespace graft::python {

namespace py = pybind11;

// A Python bool, int or float (or a NumPy scalar) as a Scalar; a TypeError for anything else.
Scalar to_scalar(py::handle value);

// (2, 3), [2, 3] or 2: a Shape; `what` names the argument in errors.
Shape to_shape(py::handle value, const char* what);
// Varargs sizes: f(2, 3) or f((2, 3)).
Shape shape_from_args(const py::args& args, const char* what);
// A reduction's dim: None (every dim), an int or a tuple of ints.
Dims to_dims(const py::object& dim);
// Tensors as torch takes them: one tensor, or any iterable of them (a module's parameters()
// included); with allow_none, a None in it is an undefined Tensor (autograd.grad's
// grad_outputs).
std::vector<Tensor> to_tensors(const py::object& one_or_many, bool allow_none = false);

TensorOptions make_options(const std::optional<DType>& dtype, const std::optional<Device>& device);

// A Python value (Tensor, nested list of numbers, number, NumPy array) as a new tensor, the
// way torch.tensor() infers the dtype: bools -> bool, ints -> int64, floats -> the default
// dtype, arrays keep theirs.
Tensor tensor_from_data(py::handle data, const std::optional<DType>& dtype);

// Arrays of other libraries: a NumPy array (through its buffer, any strides; a copy when
// graft cannot express them) or any object with __dlpack__, viewed without a copy.
bool is_array(py::handle value);
Tensor borrow_array(py::handle array);

void bind_types(py::module_& m);
void bind_tensor(py::module_& m);
void bind_functions(py::module_& m);
void bind_interop(py::module_& m);
void bind_nn(py::module_& m);
void bind_optim(py::module_& m);
void bind_io(py::module_& m);
void bind_data(py::module_& m);

}  // namespace graft::python
