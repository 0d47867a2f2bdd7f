// graft.optim: optimizers with PyTorch's keyword arguments, schedulers, gradient clipping.
#include <string>
#include <utility>

#include "bindings.h"

namespace graft::python {
namespace {

template <class O>
using OptimizerClass = py::class_<O, optim::Optimizer>;

// Adam's or AdamW's options (Options) from PyTorch's keyword arguments.
template <class Options>
Options adam_options(double lr, const py::tuple& betas, double eps, double weight_decay,
                     bool amsgrad) {
  return {.lr = lr,
          .beta1 = betas[0].cast<double>(),
          .beta2 = betas[1].cast<double>(),
          .eps = eps,
          .weight_decay = weight_decay,
          .amsgrad = amsgrad};
}

const optim::ParamGroup& group_at(const optim::Optimizer& o, size_t group) {
  if (group >= o.param_groups().size())
    throw py::index_error("param group " + std::to_string(group) + " of " + o.name() + "'s " +
                          std::to_string(o.param_groups().size()));
  return o.param_groups()[group];
}

}  // namespace

void bind_optim(py::module_& m) {
  py::module_ optim_module = m.def_submodule("optim", "optimizers and learning-rate schedules");
  py::class_<optim::Optimizer>(optim_module, "Optimizer")
      .def("step", &optim::Optimizer::step)
      .def("zero_grad", &optim::Optimizer::zero_grad, py::arg("set_to_none") = true)
      .def("set_grad_norm_tracking", &optim::Optimizer::set_grad_norm_tracking, py::arg("on"))
      .def_property_readonly("grad_norm_tracking", &optim::Optimizer::grad_norm_tracking)
      .def("last_grad_norm", &optim::Optimizer::last_grad_norm)
      .def("lr", &optim::Optimizer::lr, py::arg("group") = 0)
      .def("set_lr", &optim::Optimizer::set_lr, py::arg("group"), py::arg("lr"))
      .def("state_dict", &optim::Optimizer::state_dict)
      .def("load_state_dict", &optim::Optimizer::load_state_dict, py::arg("state_dict"))
      .def_property_readonly("name", &optim::Optimizer::name)
      // What graft.optim's param_groups (graft/__init__.py) reads and writes: the groups'
      // parameters, and their options as the optimizer's state_dict names them.
      .def("_param_group_count", [](const optim::Optimizer& o) { return o.param_groups().size(); })
      .def("_param_group_params",
           [](const optim::Optimizer& o, size_t group) { return group_at(o, group).params; })
      .def("_param_group_options",
           [](const optim::Optimizer& o, size_t group) {
             group_at(o, group);
             const std::string prefix = "param_groups." + std::to_string(group) + ".";
             py::dict options;
             for (const auto& [key, value] : o.state_dict())
               if (key.starts_with(prefix))
                 options[py::str(key.substr(prefix.size()))] =
                     value.dtype() == kBool ? py::object(py::bool_(value.item<bool>()))
                                            : py::object(py::float_(value.item<double>()));
             return options;
           })
      // lr directly (schedulers' path); another option through state_dict and
      // load_state_dict, which check it as they check a checkpoint's.
      .def("_set_param_group_option",
           [](optim::Optimizer& o, size_t group, const std::string& name, const py::object& value) {
             group_at(o, group);
             if (name == "lr") return o.set_lr(group, value.cast<double>());
             StateDict state = o.state_dict();
             const std::string key = "param_groups." + std::to_string(group) + "." + name;
             const auto it = state.find(key);
             if (it == state.end())
               throw py::key_error("'" + name + "' is not an option of " + o.name() + "'s groups");
             it->second = full({}, to_scalar(value), TensorOptions(it->second.dtype()));
             o.load_state_dict(state);
           });

  // Each optimizer keeps its parameter tensors (handles), so the list may be dropped.
  OptimizerClass<optim::SGD>(optim_module, "SGD")
      .def(py::init<std::vector<Tensor>, double, double, double, double, bool>(), py::arg("params"),
           py::arg("lr") = 1e-3, py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
           py::arg("weight_decay") = 0.0, py::arg("nesterov") = false);
  OptimizerClass<optim::Adam>(optim_module, "Adam")
      .def(py::init([](std::vector<Tensor> params, double lr, const py::tuple& betas, double eps,
                       double weight_decay, bool amsgrad) {
             return std::make_unique<optim::Adam>(
                 std::move(params),
                 adam_options<optim::AdamOptions>(lr, betas, eps, weight_decay, amsgrad));
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = py::make_tuple(0.9, 0.999),
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0, py::arg("amsgrad") = false);
  OptimizerClass<optim::AdamW>(optim_module, "AdamW")
      .def(py::init([](std::vector<Tensor> params, double lr, const py::tuple& betas, double eps,
                       double weight_decay, bool amsgrad) {
             return std::make_unique<optim::AdamW>(
                 std::move(params),
                 adam_options<optim::AdamWOptions>(lr, betas, eps, weight_decay, amsgrad));
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = py::make_tuple(0.9, 0.999),
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 1e-2, py::arg("amsgrad") = false);
  OptimizerClass<optim::RMSprop>(optim_module, "RMSprop")
      .def(py::init<std::vector<Tensor>, double, double, double, double, double, bool>(),
           py::arg("params"), py::arg("lr") = 1e-2, py::arg("alpha") = 0.99, py::arg("eps") = 1e-8,
           py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false);

  // Schedulers hold a reference to their optimizer: keep it alive as long as they live.
  py::class_<optim::LRScheduler>(optim_module, "LRScheduler")
      .def("step", &optim::LRScheduler::step)
      .def("get_last_lr", &optim::LRScheduler::last_lr);
  py::class_<optim::StepLR, optim::LRScheduler>(optim_module, "StepLR")
      .def(py::init<optim::Optimizer&, int64_t, double>(), py::arg("optimizer"),
           py::arg("step_size"), py::arg("gamma") = 0.1, py::keep_alive<1, 2>());
  py::class_<optim::CosineAnnealingLR, optim::LRScheduler>(optim_module, "CosineAnnealingLR")
      .def(py::init<optim::Optimizer&, int64_t, double>(), py::arg("optimizer"), py::arg("T_max"),
           py::arg("eta_min") = 0.0, py::keep_alive<1, 2>());

  // parameters as torch takes them: one tensor, or any iterable of tensors (a module's
  // parameters() generator included).
  optim_module.def(
      "clip_grad_norm_",
      [](const py::object& parameters, double max_norm, double norm_type, bool error_if_nonfinite) {
        return optim::clip_grad_norm_(to_tensors(parameters), max_norm, norm_type,
                                      error_if_nonfinite);
      },
      py::arg("parameters"), py::arg("max_norm"), py::arg("norm_type") = 2.0,
      py::arg("error_if_nonfinite") = false);

  py::module_ amp_module = m.def_submodule("amp", "loss scaling for float16 training");
  // torch.amp.GradScaler's signature, its device first: graft's scaler serves the gradients of
  // every device, so the device is checked (a name graft knows) and not kept; unlike PyTorch's,
  // it does not disable itself where CUDA is missing.
  py::class_<amp::GradScaler>(amp_module, "GradScaler")
      .def(py::init([](const py::object& device, double init_scale, double growth_factor,
                       double backoff_factor, int64_t growth_interval, bool enabled) {
             if (!py::isinstance<Device>(device)) Device(device.cast<std::string>());
             return amp::GradScaler(init_scale, growth_factor, backoff_factor, growth_interval,
                                    enabled);
           }),
           py::arg("device") = "cuda", py::arg("init_scale") = 65536.0,
           py::arg("growth_factor") = 2.0, py::arg("backoff_factor") = 0.5,
           py::arg("growth_interval") = 2000, py::arg("enabled") = true)
      .def("scale", &amp::GradScaler::scale, py::arg("outputs"))
      .def("unscale_", &amp::GradScaler::unscale_, py::arg("optimizer"))
      .def("step", &amp::GradScaler::step, py::arg("optimizer"))
      .def("update", &amp::GradScaler::update, py::arg("new_scale") = py::none())
      .def("get_scale", &amp::GradScaler::get_scale)
      .def("get_growth_factor", &amp::GradScaler::get_growth_factor)
      .def("get_backoff_factor", &amp::GradScaler::get_backoff_factor)
      .def("get_growth_interval", &amp::GradScaler::get_growth_interval)
      .def("is_enabled", &amp::GradScaler::is_enabled)
      // Plain numbers, as PyTorch's state_dict gives them (and load_state_dict takes PyTorch's).
      .def("state_dict",
           [](const amp::GradScaler& scaler) {
             py::dict state;
             for (const auto& [key, value] : scaler.state_dict())
               state[py::str(key)] = is_floating_point(value.dtype())
                                         ? py::object(py::float_(value.item<double>()))
                                         : py::object(py::int_(value.item<int64_t>()));
             return state;
           })
      .def(
          "load_state_dict",
          [](amp::GradScaler& scaler, const py::dict& state) {
            StateDict tensors;
            for (const auto& [key, value] : state)
              tensors[key.cast<std::string>()] = py::isinstance<Tensor>(value)
                                                     ? value.cast<Tensor>()
                                                     : full({}, to_scalar(value), kFloat64);
            scaler.load_state_dict(tensors);
          },
          py::arg("state_dict"));
}

}  // namespace graft::python
