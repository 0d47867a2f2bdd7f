// graft.Tensor: attributes, views, indexing, operators and the math of API.md, bound from
// the same op lists (core/op_list.h) that declare them in C++, so that an op added there
// is one line away from Python.
#include <sstream>
#include <string>
#include <utility>

#include "bindings.h"

namespace graft::python {
namespace {

// other may be a Tensor or a number; f is called with (Tensor, Tensor) or (Tensor, Scalar).
template <class F>
Tensor with_operand(const Tensor& self, py::handle other, F f) {
  if (py::isinstance<Tensor>(other)) return f(self, other.cast<const Tensor&>());
  return f(self, to_scalar(other));
}

// The reflected form, number OP tensor: f(Scalar, Tensor).
template <class F>
Tensor reflected(const Tensor& self, py::handle other, F f) {
  return f(to_scalar(other), self);
}

// A Python index (int, slice, None, Ellipsis, Tensor, list, or a tuple of them) as graft's.
std::vector<TensorIndex> to_indices(py::handle key) {
  std::vector<TensorIndex> indices;
  auto add = [&](py::handle item) {
    if (item.is_none()) {
      indices.emplace_back(None);
    } else if (item.is(py::ellipsis())) {
      indices.emplace_back(Ellipsis);
    } else if (PySlice_Check(item.ptr())) {
      auto bound = [](py::object v) -> SliceBound {
        return v.is_none() ? SliceBound(None) : SliceBound(to_scalar(v).to<int64_t>());
      };
      indices.emplace_back(
          Slice(bound(item.attr("start")), bound(item.attr("stop")), bound(item.attr("step"))));
    } else if (py::isinstance<Tensor>(item)) {
      indices.emplace_back(item.cast<Tensor>());
    } else if (PyBool_Check(item.ptr())) {
      throw py::index_error("graft does not index with a Python bool; use a bool tensor");
    } else if (PyLong_Check(item.ptr()) || PyIndex_Check(item.ptr())) {
      indices.emplace_back(to_scalar(item).to<int64_t>());
    } else if (py::isinstance<py::sequence>(item) || py::hasattr(item, "__array__")) {
      indices.emplace_back(tensor_from_data(item, std::nullopt));
    } else {
      throw py::index_error("cannot index a graft.Tensor with " +
                            py::str(py::type::of(item)).cast<std::string>());
    }
  };
  if (py::isinstance<py::tuple>(key)) {
    for (py::handle item : key) add(item);
  } else {
    add(key);
  }
  return indices;
}

py::tuple to_tuple(const Shape& shape) {
  py::tuple out(shape.size());
  for (int64_t i = 0; i < shape.size(); ++i) out[i] = shape[i];
  return out;
}

// A tensor's values as nested Python lists (tolist) or one number (item).
py::object to_python(const Tensor& t) {
  if (t.dim() == 0) {
    const Tensor v = t.cpu();
    if (v.dtype() == kBool) return py::bool_(v.item<bool>());
    if (is_floating_point(v.dtype())) return py::float_(v.item<double>());
    return py::int_(v.item<int64_t>());
  }
  py::list out;
  for (int64_t i = 0; i < t.size(0); ++i) out.append(to_python(t.select(0, i)));
  return out;
}

void bind_math(py::class_<Tensor>& cls) {
#define GRAFT_BIND_UNARY(name, ...)                         \
  cls.def(#name, [](const Tensor& t) { return t.name(); }); \
  cls.def(#name "_", [](const Tensor& t) { return t.name##_(); });
  GRAFT_UNARY_OPS(GRAFT_BIND_UNARY)
#undef GRAFT_BIND_UNARY

#define GRAFT_BIND_BINARY(name, ...)                                                         \
  cls.def(#name, [](const Tensor& t, py::handle other) {                                     \
    return with_operand(t, other, [](const Tensor& a, const auto& b) { return a.name(b); }); \
  });                                                                                        \
  cls.def(#name "_", [](const Tensor& t, py::handle other) {                                 \
    with_operand(t, other, [](const Tensor& a, const auto& b) { return a.name##_(b); });     \
    return t;                                                                                \
  });
  GRAFT_BINARY_OPS(GRAFT_BIND_BINARY)
#undef GRAFT_BIND_BINARY

  // t.eq(x) and t == x are one function under two names.
#define GRAFT_BIND_COMPARISON(name, ...)                                                       \
  {                                                                                            \
    auto compare = [](const Tensor& t, py::handle other) {                                     \
      return with_operand(t, other, [](const Tensor& a, const auto& b) { return a.name(b); }); \
    };                                                                                         \
    cls.def(#name, compare);                                                                   \
    cls.def("__" #name "__", compare);                                                         \
  }
  GRAFT_COMPARISON_OPS(GRAFT_BIND_COMPARISON)
#undef GRAFT_BIND_COMPARISON

  // Python's operator names for the arithmetic, each with its reflected form (`number op t`,
  // by reflected_fn) and in-place form.
#define GRAFT_BIND_OPERATOR(py_name, fn, reflected_fn)                                          \
  cls.def("__" py_name "__", [](const Tensor& t, py::handle other) {                            \
    return with_operand(t, other, [](const Tensor& a, const auto& b) { return fn(a, b); });     \
  });                                                                                           \
  cls.def("__r" py_name "__",                                                                   \
          [](const Tensor& t, py::handle other) { return reflected(t, other, reflected_fn); }); \
  cls.def("__i" py_name "__", [](const Tensor& t, py::handle other) {                           \
    with_operand(t, other, [](const Tensor& a, const auto& b) { return fn##_(a, b); });         \
    return t;                                                                                   \
  });
#define GRAFT_REFLECTED(fn) [](Scalar a, const Tensor& b) { return fn(a, b); }
  GRAFT_BIND_OPERATOR("add", add, GRAFT_REFLECTED(add))
  GRAFT_BIND_OPERATOR("sub", sub, GRAFT_REFLECTED(sub))
  GRAFT_BIND_OPERATOR("mul", mul, GRAFT_REFLECTED(mul))
  // PyTorch's Python defines `number / t` as t.reciprocal() * number (torch/_tensor.py): the
  // reciprocal rounded first, and in float32 under autocast, where reciprocal runs.
  GRAFT_BIND_OPERATOR("truediv", div, [](Scalar a, const Tensor& b) { return b.reciprocal() * a; })
  GRAFT_BIND_OPERATOR("pow", pow, GRAFT_REFLECTED(pow))
  GRAFT_BIND_OPERATOR("mod", remainder, GRAFT_REFLECTED(remainder))
#undef GRAFT_REFLECTED
#undef GRAFT_BIND_OPERATOR
  cls.def("__neg__", [](const Tensor& t) { return t.neg(); });
  cls.def("__abs__", [](const Tensor& t) { return t.abs(); });
  cls.def("__matmul__", [](const Tensor& a, const Tensor& b) { return a.matmul(b); });
  cls.def("__rmatmul__", [](const Tensor& b, const Tensor& a) { return a.matmul(b); });
  cls.def("matmul", &Tensor::matmul);
  cls.def("mm", &Tensor::mm);
  cls.def("bmm", &Tensor::bmm);
  cls.def("softmax", &Tensor::softmax, py::arg("dim"));
  cls.def("log_softmax", &Tensor::log_softmax, py::arg("dim"));
  cls.def(
      "clamp",
      [](const Tensor& t, std::optional<py::object> min, std::optional<py::object> max) {
        auto bound = [](const std::optional<py::object>& v) -> std::optional<Scalar> {
          if (!v || v->is_none()) return std::nullopt;
          return to_scalar(*v);
        };
        return t.clamp(bound(min), bound(max));
      },
      py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("masked_fill", [](const Tensor& t, const Tensor& mask, py::handle v) {
    return t.masked_fill(mask, to_scalar(v));
  });
  cls.def("masked_fill_", [](const Tensor& t, const Tensor& mask, py::handle v) {
    return t.masked_fill_(mask, to_scalar(v));
  });

  // Reductions: t.sum(), t.sum(1), t.sum((0, 1), keepdim=True), as PyTorch.
#define GRAFT_BIND_REDUCTION(name)                                                   \
  cls.def(                                                                           \
      #name,                                                                         \
      [](const Tensor& t, const py::object& dim, bool keepdim) {                     \
        return dim.is_none() && !keepdim ? t.name() : t.name(to_dims(dim), keepdim); \
      },                                                                             \
      py::arg("dim") = py::none(), py::arg("keepdim") = false);
  GRAFT_DIMS_REDUCTIONS(GRAFT_BIND_REDUCTION)
#undef GRAFT_BIND_REDUCTION
  cls.def(
      "var",
      [](const Tensor& t, const py::object& dim, int64_t correction, bool keepdim) {
        return t.var(to_dims(dim), correction, keepdim);
      },
      py::arg("dim") = py::none(), py::arg("correction") = 1, py::arg("keepdim") = false);
  cls.def(
      "std",
      [](const Tensor& t, const py::object& dim, int64_t correction, bool keepdim) {
        return t.std(to_dims(dim), correction, keepdim);
      },
      py::arg("dim") = py::none(), py::arg("correction") = 1, py::arg("keepdim") = false);
  cls.def(
      "argmax",
      [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
        return argmax(t, dim, keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false);
  cls.def(
      "argmin",
      [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
        return argmin(t, dim, keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false);
  cls.def(
      "norm",
      [](const Tensor& t, double p, const py::object& dim, bool keepdim) {
        return t.norm(p, to_dims(dim), keepdim);
      },
      py::arg("p") = 2.0, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  cls.def("cumsum", &Tensor::cumsum, py::arg("dim"));
  cls.def("cumprod", &Tensor::cumprod, py::arg("dim"));
  cls.def("tril", &Tensor::tril, py::arg("diagonal") = 0);
  cls.def("triu", &Tensor::triu, py::arg("diagonal") = 0);
  cls.def("sort", &Tensor::sort, py::arg("dim") = -1, py::arg("descending") = false);
  cls.def("argsort", &Tensor::argsort, py::arg("dim") = -1, py::arg("descending") = false);
  cls.def("topk", &Tensor::topk, py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true,
          py::arg("sorted") = true);
  cls.def("gather", &Tensor::gather, py::arg("dim"), py::arg("index"));
  cls.def("index_select", &Tensor::index_select, py::arg("dim"), py::arg("index"));
  cls.def("scatter_add", &Tensor::scatter_add, py::arg("dim"), py::arg("index"), py::arg("src"));
  cls.def("nonzero", &Tensor::nonzero);
  cls.def("multinomial", &Tensor::multinomial, py::arg("num_samples"),
          py::arg("replacement") = false);
}

void bind_views(py::class_<Tensor>& cls) {
  cls.def("view", [](const Tensor& t, const py::args& shape) {
    return t.view(shape_from_args(shape, "shape"));
  });
  cls.def("reshape", [](const Tensor& t, const py::args& shape) {
    return t.reshape(shape_from_args(shape, "shape"));
  });
  cls.def("permute", [](const Tensor& t, const py::args& dims) {
    return t.permute(shape_from_args(dims, "dims"));
  });
  cls.def("expand", [](const Tensor& t, const py::args& shape) {
    return t.expand(shape_from_args(shape, "shape"));
  });
  cls.def("flatten", &Tensor::flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  cls.def("transpose", &Tensor::transpose, py::arg("dim0"), py::arg("dim1"));
  cls.def("t", &Tensor::t);
  cls.def_property_readonly("T", [](const Tensor& t) {
    Dims reversed;
    for (int64_t i = t.dim() - 1; i >= 0; --i) reversed.push_back(i);
    return t.permute(reversed);
  });
  cls.def("unsqueeze", &Tensor::unsqueeze, py::arg("dim"));
  cls.def(
      "squeeze",
      [](const Tensor& t, std::optional<int64_t> dim) {
        return dim ? t.squeeze(*dim) : t.squeeze();
      },
      py::arg("dim") = py::none());
  cls.def("narrow", &Tensor::narrow, py::arg("dim"), py::arg("start"), py::arg("length"));
  cls.def("select", &Tensor::select, py::arg("dim"), py::arg("index"));
  cls.def("diagonal", &Tensor::diagonal, py::arg("offset") = 0, py::arg("dim1") = 0,
          py::arg("dim2") = 1);
  cls.def("contiguous", &Tensor::contiguous);
  cls.def("clone", &Tensor::clone);
  cls.def("detach", &Tensor::detach);
  cls.def("copy_", [](const Tensor& t, const Tensor& src) { return t.copy_(src); });
  cls.def("fill_", [](const Tensor& t, py::handle v) { return t.fill_(to_scalar(v)); });
  cls.def("zero_", [](const Tensor& t) { return t.zero_(); });
  cls.def("__getitem__", [](const Tensor& t, py::handle key) { return t.index(to_indices(key)); });
  cls.def("__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
    if (py::isinstance<Tensor>(value)) {
      t.index_put_(to_indices(key), value.cast<Tensor>());
    } else {
      t.index_put_(to_indices(key), to_scalar(value));
    }
  });
  cls.def("__len__", [](const Tensor& t) {
    if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
    return t.size(0);
  });
  cls.def("__iter__", [](const Tensor& t) {
    if (t.dim() == 0) throw py::type_error("iteration over a 0-d tensor");
    py::list rows;
    for (int64_t i = 0; i < t.size(0); ++i) rows.append(t.select(0, i));
    return py::iter(rows);
  });
}

void bind_conversions(py::class_<Tensor>& cls) {
  cls.def(
      "to",
      [](const Tensor& t, py::handle target, std::optional<DType> dtype) {
        Tensor out = t;
        if (py::isinstance<DType>(target)) {
          out = out.to(target.cast<DType>());
        } else if (!target.is_none()) {
          out = out.to(target.cast<Device>());
        }
        return dtype ? out.to(*dtype) : out;
      },
      py::arg("device_or_dtype") = py::none(), py::arg("dtype") = py::none());
  cls.def("cpu", &Tensor::cpu);
  cls.def("cuda", &Tensor::cuda, py::arg("index") = 0);
  cls.def("float", [](const Tensor& t) { return t.to(kFloat32); });
  cls.def("double", [](const Tensor& t) { return t.to(kFloat64); });
  cls.def("half", [](const Tensor& t) { return t.to(kFloat16); });
  cls.def("bfloat16", [](const Tensor& t) { return t.to(kBFloat16); });
  cls.def("long", [](const Tensor& t) { return t.to(kInt64); });
  cls.def("int", [](const Tensor& t) { return t.to(kInt32); });
  cls.def("bool", [](const Tensor& t) { return t.to(kBool); });
  cls.def("item", [](const Tensor& t) {
    if (t.numel() != 1)
      throw Error("item(): a Tensor with " + std::to_string(t.numel()) +
                  " elements cannot be converted to a Python number");
    return to_python(t.reshape({}));
  });
  cls.def("tolist", &to_python);
  cls.def("__float__", [](const Tensor& t) { return t.to(kFloat64).item<double>(); });
  cls.def("__int__", [](const Tensor& t) { return t.to(kInt64).item<int64_t>(); });
  cls.def("__bool__", [](const Tensor& t) {
    if (t.numel() != 1)
      throw Error("Boolean value of Tensor with more than one value is ambiguous");
    return t.to(kBool).item<bool>();
  });
  cls.def("__repr__", [](const Tensor& t) {
    std::ostringstream out;
    out << t;
    return out.str();
  });
}

void bind_autograd(py::class_<Tensor>& cls) {
  cls.def_property("requires_grad", &Tensor::requires_grad,
                   [](const Tensor& t, bool on) { t.requires_grad_(on); });
  cls.def("requires_grad_", &Tensor::requires_grad_, py::arg("requires_grad") = true);
  cls.def_property(
      "grad",
      [](const Tensor& t) -> py::object {
        const Tensor g = t.grad();
        return g.defined() ? py::cast(g) : py::none();
      },
      [](const Tensor& t, const std::optional<Tensor>& g) {
        t.mutable_grad() = g ? *g : Tensor();
      });
  cls.def_property_readonly("is_leaf", &Tensor::is_leaf);
  cls.def_property_readonly("retains_grad", &Tensor::retains_grad);
  cls.def("retain_grad", &Tensor::retain_grad);
  cls.def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
    const auto node = t.grad_fn();
    if (!node) return py::none();
    return py::str(node->name());
  });
  cls.def(
      "backward",
      [](const Tensor& t, const std::optional<Tensor>& gradient, std::optional<bool> retain_graph,
         bool create_graph) {
        t.backward(gradient.value_or(Tensor()), retain_graph.value_or(create_graph), create_graph);
      },
      py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(),
      py::arg("create_graph") = false);
  cls.def("register_hook", [](const Tensor& t, py::function hook) {
    t.register_hook([hook](const Tensor& grad) {
      py::gil_scoped_acquire gil;
      py::object out = hook(grad);
      return out.is_none() ? Tensor() : out.cast<Tensor>();
    });
  });
}

}  // namespace

void bind_tensor(py::module_& m) {
  py::class_<Tensor> cls(m, "Tensor");
  cls.def(py::init([](py::handle data) { return tensor_from_data(data, std::nullopt); }),
          py::arg("data"));
  cls.def_property_readonly("shape", [](const Tensor& t) { return to_tuple(t.shape()); });
  cls.def(
      "size",
      [](const Tensor& t, std::optional<int64_t> dim) -> py::object {
        if (dim) return py::int_(t.size(*dim));
        return to_tuple(t.shape());
      },
      py::arg("dim") = py::none());
  cls.def(
      "stride",
      [](const Tensor& t, std::optional<int64_t> dim) -> py::object {
        if (dim) return py::int_(t.stride(*dim));
        return to_tuple(t.strides());
      },
      py::arg("dim") = py::none());
  cls.def_property_readonly("dtype", &Tensor::dtype);
  cls.def_property_readonly("device", &Tensor::device);
  cls.def_property_readonly("ndim", &Tensor::dim);
  cls.def("dim", &Tensor::dim);
  cls.def("numel", &Tensor::numel);
  cls.def("element_size", [](const Tensor& t) { return element_size(t.dtype()); });
  cls.def("storage_offset", &Tensor::storage_offset);
  cls.def("is_contiguous", &Tensor::is_contiguous);
  cls.def_property_readonly("is_cuda", [](const Tensor& t) { return t.device().is_cuda(); });
  cls.def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); });
  cls.def("_version", &Tensor::_version);
  // Defining __eq__ (elementwise) would leave tensors unhashable; as in PyTorch, a tensor
  // hashes by identity (of the handle's implementation), so it can key a dict or a set.
  cls.def("__hash__", [](const Tensor& t) { return std::hash<const TensorImpl*>()(&t.impl()); });
  bind_views(cls);
  bind_conversions(cls);
  bind_math(cls);
  bind_autograd(cls);
}

}  // namespace graft::python
