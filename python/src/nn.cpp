// graft.nn: Module (subclassable from Python), the layers, the losses, and
// graft.nn.functional.
//
// A Python subclass overrides forward(); C++ calls it through the trampoline below, so a
// Python module can sit inside a C++ Sequential. Children registered from Python are kept
// alive from the parent's Python object as well (keep_alive), because the C++ parent holds
// only the C++ part of a Python subclass.
#include <string>
#include <tuple>
#include <utility>

#include "bindings.h"

namespace graft::python {
namespace {

namespace F = nn::functional;

// Opens Module's protected registration functions to the bindings.
class PyModule : public nn::Module {
 public:
  using nn::Module::Module;
  using nn::Module::register_buffer;
  using nn::Module::register_parameter;

  Tensor forward(const Tensor& input) override {
    PYBIND11_OVERRIDE(Tensor, nn::Module, forward, input);
  }
  std::shared_ptr<nn::Module> add_module(const std::string& name,
                                         std::shared_ptr<nn::Module> module) {
    return register_module(name, std::move(module));
  }
};

// Registration is for modules written in Python; graft's own layers are complete.
PyModule& python_subclass(nn::Module& module, const char* what) {
  auto* py_module = dynamic_cast<PyModule*>(&module);
  if (py_module == nullptr)
    throw py::type_error(std::string(what) +
                         "() is for Python subclasses of graft.nn.Module, not " +
                         module.type_name());
  return *py_module;
}

// A tensor member that may be undefined (bias=False): None then, as PyTorch.
template <class M>
auto optional_member(Tensor M::*member) {
  return [member](const M& m) -> py::object {
    return (m.*member).defined() ? py::cast(m.*member) : py::none();
  };
}

IntPair to_pair(py::handle value) {
  if (py::isinstance<py::sequence>(value)) {
    const Shape s = to_shape(value, "a size pair");
    if (s.size() != 2) throw py::value_error("expected an int or a pair (h, w)");
    return {s[0], s[1]};
  }
  return value.cast<int64_t>();
}

std::optional<IntPair> to_optional_pair(py::handle value) {
  if (value.is_none()) return std::nullopt;
  return to_pair(value);
}

nn::functional::Reduction to_reduction(const std::string& name) {
  if (name == "mean") return F::Reduction::kMean;
  if (name == "sum") return F::Reduction::kSum;
  if (name == "none") return F::Reduction::kNone;
  throw py::value_error("reduction must be 'mean', 'sum' or 'none', got '" + name + "'");
}

template <class M>
using Layer = py::class_<M, nn::Module, std::shared_ptr<M>>;

void bind_module(py::module_& nn_module) {
  py::class_<nn::Module, PyModule, std::shared_ptr<nn::Module>>(nn_module, "Module")
      .def(py::init<std::string>(), py::arg("type_name") = "Module")
      .def("forward", &nn::Module::forward, py::arg("input"))
      .def("__call__", [](py::object self, py::args args,
                          py::kwargs kwargs) { return self.attr("forward")(*args, **kwargs); })
      .def("parameters", &nn::Module::parameters, py::arg("recurse") = true)
      .def("named_parameters", &nn::Module::named_parameters, py::arg("recurse") = true)
      .def("buffers", &nn::Module::buffers, py::arg("recurse") = true)
      .def("named_buffers", &nn::Module::named_buffers, py::arg("recurse") = true)
      .def("children", &nn::Module::children)
      .def("train", &nn::Module::train, py::arg("mode") = true, py::return_value_policy::reference)
      .def("eval", &nn::Module::eval, py::return_value_policy::reference)
      .def_property_readonly("training", &nn::Module::is_training)
      .def(
          "to",
          [](nn::Module& m, py::handle target) -> nn::Module& {
            if (py::isinstance<DType>(target)) return m.to(target.cast<DType>());
            return m.to(target.cast<Device>());
          },
          py::return_value_policy::reference)
      .def("zero_grad", &nn::Module::zero_grad, py::arg("set_to_none") = true)
      // pybind11's STL casters make the StateDict a dict and the pairs (name, tensor) tuples.
      .def("state_dict", &nn::Module::state_dict)
      .def(
          "load_state_dict",
          [](nn::Module& m, const StateDict& state, bool strict) {
            const nn::LoadResult r = m.load_state_dict(state, strict);
            return py::make_tuple(r.missing_keys, r.unexpected_keys);
          },
          py::arg("state_dict"), py::arg("strict") = true)
      .def(
          "register_parameter",
          [](nn::Module& self, const std::string& name, const Tensor& t, bool requires_grad) {
            return python_subclass(self, "register_parameter")
                .register_parameter(name, t, requires_grad);
          },
          py::arg("name"), py::arg("tensor"), py::arg("requires_grad") = true)
      .def(
          "register_buffer",
          [](nn::Module& self, const std::string& name, const Tensor& t) {
            return python_subclass(self, "register_buffer").register_buffer(name, t);
          },
          py::arg("name"), py::arg("tensor"))
      .def(
          "register_module",
          [](nn::Module& self, const std::string& name, std::shared_ptr<nn::Module> module) {
            return python_subclass(self, "register_module").add_module(name, std::move(module));
          },
          py::arg("name"), py::arg("module"), py::keep_alive<1, 3>())
      .def_property_readonly("type_name", &nn::Module::type_name)
      .def("__repr__", [](const nn::Module& m) { return m.type_name() + "()"; });

  // Out of range, ptr() throws graft::IndexError, which arrives as an IndexError.
  Layer<nn::ModuleList>(nn_module, "ModuleList")
      .def(py::init<>())
      .def(
          "append",
          [](nn::ModuleList& s, std::shared_ptr<nn::Module> m) { s.push_back(std::move(m)); },
          py::keep_alive<1, 2>())
      .def("__len__", &nn::ModuleList::size)
      .def("__getitem__", &nn::ModuleList::ptr);
  py::class_<nn::Sequential, nn::ModuleList, std::shared_ptr<nn::Sequential>>(nn_module,
                                                                              "Sequential")
      .def(py::init<>());
}

void bind_layers(py::module_& nn_module) {
  Layer<nn::Linear>(nn_module, "Linear")
      .def(py::init<int64_t, int64_t, bool>(), py::arg("in_features"), py::arg("out_features"),
           py::arg("bias") = true)
      .def_readonly("weight", &nn::Linear::weight)
      .def_property_readonly("bias", optional_member(&nn::Linear::bias));
  Layer<nn::Conv2d>(nn_module, "Conv2d")
      .def(py::init([](int64_t in, int64_t out, py::handle kernel, py::handle stride,
                       py::handle padding, py::handle dilation, int64_t groups, bool bias) {
             return nn::Conv2d(in, out, to_pair(kernel), to_pair(stride), to_pair(padding),
                               to_pair(dilation), groups, bias);
           }),
           py::arg("in_channels"), py::arg("out_channels"), py::arg("kernel_size"),
           py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
           py::arg("groups") = 1, py::arg("bias") = true)
      .def_readonly("weight", &nn::Conv2d::weight)
      .def_property_readonly("bias", optional_member(&nn::Conv2d::bias));
  Layer<nn::MaxPool2d>(nn_module, "MaxPool2d")
      .def(py::init([](py::handle kernel, py::handle stride, py::handle padding) {
             return nn::MaxPool2d(to_pair(kernel), to_optional_pair(stride), to_pair(padding));
           }),
           py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0);
  Layer<nn::AvgPool2d>(nn_module, "AvgPool2d")
      .def(py::init([](py::handle kernel, py::handle stride, py::handle padding) {
             return nn::AvgPool2d(to_pair(kernel), to_optional_pair(stride), to_pair(padding));
           }),
           py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0);
  Layer<nn::Flatten>(nn_module, "Flatten")
      .def(py::init<int64_t, int64_t>(), py::arg("start_dim") = 1, py::arg("end_dim") = -1);
  Layer<nn::ReLU>(nn_module, "ReLU").def(py::init<>());
  Layer<nn::Sigmoid>(nn_module, "Sigmoid").def(py::init<>());
  Layer<nn::Tanh>(nn_module, "Tanh").def(py::init<>());
  Layer<nn::SiLU>(nn_module, "SiLU").def(py::init<>());
  Layer<nn::GELU>(nn_module, "GELU").def(py::init<std::string>(), py::arg("approximate") = "none");
  Layer<nn::Softmax>(nn_module, "Softmax").def(py::init<int64_t>(), py::arg("dim"));
  Layer<nn::LogSoftmax>(nn_module, "LogSoftmax").def(py::init<int64_t>(), py::arg("dim"));
  Layer<nn::Dropout>(nn_module, "Dropout").def(py::init<double>(), py::arg("p") = 0.5);
  Layer<nn::BatchNorm1d>(nn_module, "BatchNorm1d")
      .def(py::init<int64_t, double, std::optional<double>, bool, bool>(), py::arg("num_features"),
           py::arg("eps") = 1e-5, py::arg("momentum") = 0.1, py::arg("affine") = true,
           py::arg("track_running_stats") = true);
  Layer<nn::BatchNorm2d>(nn_module, "BatchNorm2d")
      .def(py::init<int64_t, double, std::optional<double>, bool, bool>(), py::arg("num_features"),
           py::arg("eps") = 1e-5, py::arg("momentum") = 0.1, py::arg("affine") = true,
           py::arg("track_running_stats") = true);
  Layer<nn::LayerNorm>(nn_module, "LayerNorm")
      .def(py::init([](py::handle shape, double eps, bool affine, bool bias) {
             return nn::LayerNorm(to_shape(shape, "normalized_shape"), eps, affine, bias);
           }),
           py::arg("normalized_shape"), py::arg("eps") = 1e-5, py::arg("elementwise_affine") = true,
           py::arg("bias") = true)
      .def_property_readonly("weight", optional_member(&nn::LayerNorm::weight))
      .def_property_readonly("bias", optional_member(&nn::LayerNorm::bias));
  // forward(query, key=None, value=None, ...): key and value default to the query
  // (self-attention); the bool mask is true where attending is allowed (docs/porting.md).
  // batch_first and need_weights as torch.nn.MultiheadAttention spells them, for the one
  // value graft has: its inputs are batch first and it returns the output alone.
  Layer<nn::MultiheadAttention>(nn_module, "MultiheadAttention")
      .def(py::init([](int64_t embed_dim, int64_t num_heads, double dropout, bool bias,
                       bool batch_first) {
             if (!batch_first)
               throw py::value_error(
                   "MultiheadAttention: graft's takes its inputs batch first, (N, L, E); "
                   "transpose (L, N, E) inputs with x.transpose(0, 1) and pass batch_first=True");
             return std::make_shared<nn::MultiheadAttention>(embed_dim, num_heads, dropout, bias);
           }),
           py::arg("embed_dim"), py::arg("num_heads"), py::arg("dropout") = 0.0,
           py::arg("bias") = true, py::arg("batch_first") = true)
      .def(
          "forward",
          [](nn::MultiheadAttention& m, const Tensor& query, const std::optional<Tensor>& key,
             const std::optional<Tensor>& value, const std::optional<Tensor>& attn_mask,
             bool is_causal, bool need_weights) {
            if (need_weights)
              throw py::value_error(
                  "MultiheadAttention: graft's returns the output alone, without the attention "
                  "weights; pass need_weights=False (docs/porting.md)");
            return m.forward(query, key.value_or(query), value.value_or(key.value_or(query)),
                             attn_mask.value_or(Tensor()), is_causal);
          },
          py::arg("query"), py::arg("key") = py::none(), py::arg("value") = py::none(),
          py::arg("attn_mask") = py::none(), py::arg("is_causal") = false,
          py::arg("need_weights") = false)
      .def_readonly("in_proj_weight", &nn::MultiheadAttention::in_proj_weight)
      .def_property_readonly("in_proj_bias", optional_member(&nn::MultiheadAttention::in_proj_bias))
      .def_readonly("out_proj", &nn::MultiheadAttention::out_proj);
  Layer<nn::Identity>(nn_module, "Identity").def(py::init<>());
  Layer<nn::Embedding>(nn_module, "Embedding")
      .def(py::init<int64_t, int64_t, std::optional<int64_t>>(), py::arg("num_embeddings"),
           py::arg("embedding_dim"), py::arg("padding_idx") = py::none())
      .def_readonly("weight", &nn::Embedding::weight);
}

// A loss module whose constructor is (reduction='mean', <one number>=default), as
// SmoothL1Loss(reduction, beta).
template <class L>
void bind_loss_of_number(py::module_& nn_module, const char* name, const char* number,
                         double default_value) {
  py::class_<L, nn::Loss, std::shared_ptr<L>>(nn_module, name)
      .def(py::init([](const std::string& reduction, double value) {
             return L(to_reduction(reduction), value);
           }),
           py::arg("reduction") = "mean", py::arg(number) = default_value);
}

template <class L>
void bind_loss_of_reduction(py::module_& nn_module, const char* name) {
  py::class_<L, nn::Loss, std::shared_ptr<L>>(nn_module, name)
      .def(py::init([](const std::string& reduction) { return L(to_reduction(reduction)); }),
           py::arg("reduction") = "mean");
}

void bind_losses(py::module_& nn_module) {
  py::class_<nn::Loss, nn::Module, std::shared_ptr<nn::Loss>>(nn_module, "Loss")
      .def("forward", py::overload_cast<const Tensor&, const Tensor&>(&nn::Loss::forward),
           py::arg("input"), py::arg("target"));
  py::class_<nn::CrossEntropyLoss, nn::Loss, std::shared_ptr<nn::CrossEntropyLoss>>(
      nn_module, "CrossEntropyLoss")
      .def(py::init([](const std::optional<Tensor>& weight, int64_t ignore_index,
                       const std::string& reduction, double smoothing) {
             return nn::CrossEntropyLoss({.ignore_index = ignore_index,
                                          .reduction = to_reduction(reduction),
                                          .label_smoothing = smoothing,
                                          .weight = weight.value_or(Tensor())});
           }),
           py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
           py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0);
  py::class_<nn::NLLLoss, nn::Loss, std::shared_ptr<nn::NLLLoss>>(nn_module, "NLLLoss")
      .def(py::init([](const std::optional<Tensor>& weight, int64_t ignore_index,
                       const std::string& reduction) {
             return nn::NLLLoss({.ignore_index = ignore_index,
                                 .reduction = to_reduction(reduction),
                                 .weight = weight.value_or(Tensor())});
           }),
           py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
           py::arg("reduction") = "mean");
  bind_loss_of_reduction<nn::MSELoss>(nn_module, "MSELoss");
  bind_loss_of_reduction<nn::L1Loss>(nn_module, "L1Loss");
  bind_loss_of_number<nn::SmoothL1Loss>(nn_module, "SmoothL1Loss", "beta", 1.0);
  bind_loss_of_number<nn::HuberLoss>(nn_module, "HuberLoss", "delta", 1.0);
  py::class_<nn::BCELoss, nn::Loss, std::shared_ptr<nn::BCELoss>>(nn_module, "BCELoss")
      .def(py::init([](const std::optional<Tensor>& weight, const std::string& reduction) {
             return nn::BCELoss(
                 {.weight = weight.value_or(Tensor()), .reduction = to_reduction(reduction)});
           }),
           py::arg("weight") = py::none(), py::arg("reduction") = "mean");
  py::class_<nn::BCEWithLogitsLoss, nn::Loss, std::shared_ptr<nn::BCEWithLogitsLoss>>(
      nn_module, "BCEWithLogitsLoss")
      .def(py::init([](const std::optional<Tensor>& weight, const std::string& reduction,
                       const std::optional<Tensor>& pos_weight) {
             return nn::BCEWithLogitsLoss({.weight = weight.value_or(Tensor()),
                                           .pos_weight = pos_weight.value_or(Tensor()),
                                           .reduction = to_reduction(reduction)});
           }),
           py::arg("weight") = py::none(), py::arg("reduction") = "mean",
           py::arg("pos_weight") = py::none());
}

void bind_functional(py::module_& functional) {
  functional.def("relu", &F::relu);
  functional.def("gelu", &F::gelu, py::arg("input"), py::arg("approximate") = "none");
  functional.def("silu", &F::silu);
  functional.def("softmax", &F::softmax, py::arg("input"), py::arg("dim"));
  functional.def("log_softmax", &F::log_softmax, py::arg("input"), py::arg("dim"));
  functional.def("dropout", &F::dropout, py::arg("input"), py::arg("p") = 0.5,
                 py::arg("training") = true);
  functional.def(
      "layer_norm",
      [](const Tensor& x, py::handle shape, const std::optional<Tensor>& w,
         const std::optional<Tensor>& b, double eps) {
        return F::layer_norm(x, to_shape(shape, "normalized_shape"), w.value_or(Tensor()),
                             b.value_or(Tensor()), eps);
      },
      py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(),
      py::arg("bias") = py::none(), py::arg("eps") = 1e-5);
  functional.def(
      "scaled_dot_product_attention",
      [](const Tensor& q, const Tensor& k, const Tensor& v, const std::optional<Tensor>& mask,
         double dropout_p, bool is_causal, std::optional<double> scale) {
        return F::scaled_dot_product_attention(q, k, v, mask.value_or(Tensor()), dropout_p,
                                               is_causal, scale);
      },
      py::arg("query"), py::arg("key"), py::arg("value"), py::arg("attn_mask") = py::none(),
      py::arg("dropout_p") = 0.0, py::arg("is_causal") = false, py::arg("scale") = py::none());
  functional.def(
      "conv2d",
      [](const Tensor& x, const Tensor& w, const std::optional<Tensor>& b, py::handle stride,
         py::handle padding, py::handle dilation, int64_t groups) {
        return F::conv2d(x, w, b.value_or(Tensor()), to_pair(stride), to_pair(padding),
                         to_pair(dilation), groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1,
      py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1);
  functional.def(
      "max_pool2d",
      [](const Tensor& x, py::handle kernel, py::handle stride, py::handle padding,
         py::handle dilation, bool ceil_mode, bool return_indices) -> py::object {
        const auto [out, indices] =
            max_pool2d_with_indices(x, to_pair(kernel), to_optional_pair(stride), to_pair(padding),
                                    to_pair(dilation), ceil_mode);
        if (return_indices) return py::make_tuple(out, indices);
        return py::cast(out);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(),
      py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("ceil_mode") = false,
      py::arg("return_indices") = false);
  functional.def(
      "avg_pool2d",
      [](const Tensor& x, py::handle kernel, py::handle stride, py::handle padding, bool ceil_mode,
         bool count_include_pad) {
        return F::avg_pool2d(x, to_pair(kernel), to_optional_pair(stride), to_pair(padding),
                             ceil_mode, count_include_pad);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(),
      py::arg("padding") = 0, py::arg("ceil_mode") = false, py::arg("count_include_pad") = true);
  functional.def(
      "adaptive_avg_pool2d",
      [](const Tensor& x, py::handle output_size) {
        return F::adaptive_avg_pool2d(x, to_pair(output_size));
      },
      py::arg("input"), py::arg("output_size"));
  functional.def("embedding", &F::embedding, py::arg("input"), py::arg("weight"),
                 py::arg("padding_idx") = py::none());
  functional.def(
      "batch_norm",
      [](const Tensor& x, const std::optional<Tensor>& running_mean,
         const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
         const std::optional<Tensor>& bias, bool training, std::optional<double> momentum,
         double eps) {
        return F::batch_norm(x, running_mean.value_or(Tensor()), running_var.value_or(Tensor()),
                             weight.value_or(Tensor()), bias.value_or(Tensor()), training, momentum,
                             eps);
      },
      py::arg("input"), py::arg("running_mean"), py::arg("running_var"),
      py::arg("weight") = py::none(), py::arg("bias") = py::none(), py::arg("training") = false,
      py::arg("momentum") = 0.1, py::arg("eps") = 1e-5);
  functional.def("one_hot", &F::one_hot, py::arg("tensor"), py::arg("num_classes") = -1);
  functional.def(
      "pad",
      [](const Tensor& x, const std::vector<int64_t>& pad, const std::string& mode,
         std::optional<double> value) {
        if (mode != "constant")
          throw py::value_error("graft pads with a constant only, not mode '" + mode + "'");
        return F::pad(x, pad, value.value_or(0.0));
      },
      py::arg("input"), py::arg("pad"), py::arg("mode") = "constant",
      py::arg("value") = py::none());
  functional.def(
      "linear",
      [](const Tensor& x, const Tensor& w, const std::optional<Tensor>& b) {
        return F::linear(x, w, b.value_or(Tensor()));
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none());
  functional.def(
      "cross_entropy",
      [](const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
         int64_t ignore_index, const std::string& reduction, double smoothing) {
        return F::cross_entropy(input, target,
                                {.ignore_index = ignore_index,
                                 .reduction = to_reduction(reduction),
                                 .label_smoothing = smoothing,
                                 .weight = weight.value_or(Tensor())});
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
      py::arg("ignore_index") = -100, py::arg("reduction") = "mean",
      py::arg("label_smoothing") = 0.0);
  functional.def(
      "nll_loss",
      [](const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
         int64_t ignore_index, const std::string& reduction) {
        return F::nll_loss(input, target,
                           {.ignore_index = ignore_index,
                            .reduction = to_reduction(reduction),
                            .weight = weight.value_or(Tensor())});
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
      py::arg("ignore_index") = -100, py::arg("reduction") = "mean");
  for (const auto& [name, loss] :
       {std::pair{"mse_loss", &F::mse_loss}, std::pair{"l1_loss", &F::l1_loss}})
    functional.def(
        name,
        [loss](const Tensor& input, const Tensor& target, const std::string& reduction) {
          return loss(input, target, to_reduction(reduction));
        },
        py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  for (const auto& [name, loss, number] : {std::tuple{"smooth_l1_loss", &F::smooth_l1_loss, "beta"},
                                           std::tuple{"huber_loss", &F::huber_loss, "delta"}})
    functional.def(
        name,
        [loss](const Tensor& input, const Tensor& target, const std::string& reduction,
               double value) { return loss(input, target, to_reduction(reduction), value); },
        py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg(number) = 1.0);
  functional.def(
      "binary_cross_entropy",
      [](const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
         const std::string& reduction) {
        return F::binary_cross_entropy(
            input, target,
            {.weight = weight.value_or(Tensor()), .reduction = to_reduction(reduction)});
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
      py::arg("reduction") = "mean");
  functional.def(
      "binary_cross_entropy_with_logits",
      [](const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
         const std::string& reduction, const std::optional<Tensor>& pos_weight) {
        return F::binary_cross_entropy_with_logits(input, target,
                                                   {.weight = weight.value_or(Tensor()),
                                                    .pos_weight = pos_weight.value_or(Tensor()),
                                                    .reduction = to_reduction(reduction)});
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
      py::arg("reduction") = "mean", py::arg("pos_weight") = py::none());
}

}  // namespace

void bind_nn(py::module_& m) {
  py::module_ nn_module = m.def_submodule("nn", "modules, layers and losses");
  bind_module(nn_module);
  bind_layers(nn_module);
  bind_losses(nn_module);
  py::module_ functional = nn_module.def_submodule("functional", "the layers as functions");
  bind_functional(functional);
}

}  // namespace graft::python
