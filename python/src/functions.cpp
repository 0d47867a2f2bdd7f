// Module-level functions: factories with PyTorch's keyword arguments (dtype=, device=,
// requires_grad=), graft.tensor() from nested lists, and the functions of several tensors.
// The one-tensor math (graft.exp(t), graft.sum(t, 1)) is the methods', forwarded in
// graft/__init__.py.
#include <string>
#include <vector>

#include "bindings.h"

namespace graft::python {
namespace {

// What a nested list holds, in promotion order: its dtype is the largest seen.
enum class Kind { kBool, kInt, kFloat };

struct Collected {
  Shape shape;  // graft's fixed-capacity dims: a deeper nesting is its error
  std::vector<double> floats;
  std::vector<int64_t> ints;  // kept apart: int64 values above 2^53 must not round
  Kind kind = Kind::kBool;
  bool shape_known = false;
};

void collect(py::handle item, int64_t depth, Collected& out) {
  const bool is_sequence = (py::isinstance<py::list>(item) || py::isinstance<py::tuple>(item));
  if (!out.shape_known && !is_sequence) out.shape_known = true;
  if (is_sequence) {
    const auto n = static_cast<int64_t>(py::len(item));
    if (!out.shape_known && depth == out.shape.size()) {
      out.shape.push_back(n);
      if (n == 0) out.shape_known = true;
    } else if (depth >= out.shape.size() || out.shape[depth] != n) {
      throw py::value_error("graft.tensor(): the nested lists are ragged (a list of length " +
                            std::to_string(n) + " at depth " + std::to_string(depth) +
                            " disagrees with the others)");
    }
    for (py::handle child : item) collect(child, depth + 1, out);
    return;
  }
  if (depth != out.shape.size())
    throw py::value_error("graft.tensor(): the nested lists are ragged (a number at depth " +
                          std::to_string(depth) + ")");
  const Scalar s = to_scalar(item);
  const Kind kind = s.dtype() == kBool    ? Kind::kBool
                    : s.dtype() == kInt64 ? Kind::kInt
                                          : Kind::kFloat;
  out.kind = std::max(out.kind, kind);
  out.floats.push_back(s.to<double>());
  out.ints.push_back(s.to<int64_t>());
}

Tensor from_nested(py::handle data, const std::optional<DType>& dtype) {
  Collected c;
  collect(data, 0, c);
  // No numbers at all (graft.tensor([])): the default dtype, as PyTorch.
  if (c.floats.empty()) c.kind = Kind::kFloat;
  const DType inferred = c.kind == Kind::kFloat ? get_default_dtype()
                         : c.kind == Kind::kInt ? kInt64
                                                : kBool;
  // Integers are built exactly in int64, everything else through float64, then converted.
  Tensor t = c.kind == Kind::kFloat ? tensor(c.floats, kFloat64) : tensor(c.ints, kInt64);
  return t.reshape(c.shape).to(dtype.value_or(inferred));
}

}  // namespace

Tensor tensor_from_data(py::handle data, const std::optional<DType>& dtype) {
  if (py::isinstance<Tensor>(data)) {
    const Tensor t = data.cast<Tensor>().detach().clone();
    return dtype ? t.to(*dtype) : t;
  }
  if (is_array(data)) {
    // An array (NumPy's or another library's) keeps its dtype, as torch.tensor does.
    const Tensor t = borrow_array(data).clone();
    return dtype ? t.to(*dtype) : t;
  }
  return from_nested(data, dtype);
}

void bind_functions(py::module_& m) {
  using OptDType = std::optional<DType>;
  using OptDevice = std::optional<Device>;
  auto finish = [](Tensor t, bool requires_grad) {
    if (requires_grad) t.requires_grad_();
    return t;
  };

  m.def(
      "tensor",
      [finish](py::handle data, OptDType dtype, OptDevice device, bool requires_grad) {
        Tensor t = tensor_from_data(data, dtype);
        if (device) t = t.to(*device);
        return finish(t, requires_grad);
      },
      py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
      py::arg("requires_grad") = false);

  // zeros(2, 3) and zeros((2, 3)), with the keywords.
#define GRAFT_BIND_SHAPE_FACTORY(name)                                                       \
  m.def(                                                                                     \
      #name,                                                                                 \
      [finish](const py::args& size, OptDType dtype, OptDevice device, bool requires_grad) { \
        return finish(name(shape_from_args(size, "size"), make_options(dtype, device)),      \
                      requires_grad);                                                        \
      },                                                                                     \
      py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),          \
      py::arg("requires_grad") = false);
  GRAFT_BIND_SHAPE_FACTORY(zeros)
  GRAFT_BIND_SHAPE_FACTORY(ones)
  GRAFT_BIND_SHAPE_FACTORY(empty)
  GRAFT_BIND_SHAPE_FACTORY(rand)
  GRAFT_BIND_SHAPE_FACTORY(randn)
#undef GRAFT_BIND_SHAPE_FACTORY

  m.def(
      "full",
      [finish](py::handle size, py::handle value, OptDType dtype, OptDevice device,
               bool requires_grad) {
        return finish(full(to_shape(size, "size"), to_scalar(value), make_options(dtype, device)),
                      requires_grad);
      },
      py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def(
      "arange",
      [](py::handle a, py::handle b, py::handle step, OptDType dtype, OptDevice device) {
        const TensorOptions options = make_options(dtype, device);
        if (b.is_none()) return arange(to_scalar(a), options);
        return arange(to_scalar(a), to_scalar(b), to_scalar(step), options);
      },
      py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(),
      py::arg("dtype") = py::none(), py::arg("device") = py::none());
  m.def(
      "linspace",
      [](double start, double end, int64_t steps, OptDType dtype, OptDevice device) {
        return linspace(start, end, steps, make_options(dtype, device));
      },
      py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(),
      py::arg("dtype") = py::none(), py::arg("device") = py::none());
  m.def(
      "eye",
      [](int64_t n, std::optional<int64_t> cols, OptDType dtype, OptDevice device) {
        return eye(n, cols.value_or(n), make_options(dtype, device));
      },
      py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("device") = py::none());
  m.def(
      "randint",
      [](int64_t low, int64_t high, py::handle size, OptDType dtype, OptDevice device) {
        return randint(low, high, to_shape(size, "size"), make_options(dtype, device));
      },
      py::arg("low"), py::arg("high"), py::arg("size"), py::kw_only(),
      py::arg("dtype") = py::none(), py::arg("device") = py::none());
  m.def("zeros_like", [](const Tensor& t) { return zeros_like(t); });
  m.def("ones_like", [](const Tensor& t) { return ones_like(t); });
  m.def("empty_like", [](const Tensor& t) { return empty_like(t); });
  m.def("full_like",
        [](const Tensor& t, py::handle value) { return full_like(t, to_scalar(value)); });

  m.def("cat", &cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", &stack, py::arg("tensors"), py::arg("dim") = 0);
  m.def("where", [](const Tensor& cond, py::handle a, py::handle b) -> Tensor {
    const bool a_tensor = py::isinstance<Tensor>(a), b_tensor = py::isinstance<Tensor>(b);
    if (a_tensor && b_tensor) return where(cond, a.cast<Tensor>(), b.cast<Tensor>());
    if (a_tensor) return where(cond, a.cast<Tensor>(), to_scalar(b));
    if (b_tensor) return where(cond, to_scalar(a), b.cast<Tensor>());
    throw py::type_error("graft.where(): one of the two values must be a Tensor");
  });
  m.def("allclose", &allclose, py::arg("a"), py::arg("b"), py::arg("rtol") = 1e-5,
        py::arg("atol") = 1e-8);
  m.def("equal", &equal, py::arg("a"), py::arg("b"));
}

}  // namespace graft::python
