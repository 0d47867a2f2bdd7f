// Module's registries, traversal, placement and state dicts (see module.h).
//
// Traversal is recursive over children: model depth is a handful of levels, not thousands.
// Lists drop a tensor or module reached a second time (weights shared between layers),
// as PyTorch's named_parameters() does; state_dict() keeps every name, as PyTorch's does,
// so a checkpoint of a model with shared weights loads back into it.
#include "graft/nn/module.h"

#include <set>
#include <sstream>

#include "graft/autograd/grad_mode.h"
#include "graft/autograd/ops.h"

namespace graft::nn {

namespace {

std::vector<Tensor> values_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<Tensor> out;
  out.reserve(named.size());
  for (const auto& [name, t] : named) out.push_back(t);
  return out;
}

// "a", "b" -> "\"a\", \"b\"" for the load errors.
std::string quoted_list(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& key : keys) out += (out.empty() ? "\"" : ", \"") + key + "\"";
  return out;
}

}  // namespace

Tensor Module::forward(const Tensor&) {
  detail::fail(type_name_,
               ": forward(input) is not implemented; a module called with one tensor must "
               "override `Tensor forward(const Tensor&)`");
}

void Module::check_new_name(const std::string& name, const char* what) const {
  GRAFT_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name_, ": ", what,
              " name \"", name, "\" must be non-empty and contain no '.' (dots join the names of ",
              "nested modules)");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  GRAFT_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), type_name_,
              ": cannot register ", what, " \"", name,
              "\": a parameter, buffer or child module of that name already exists");
}

Tensor Module::register_parameter(const std::string& name, const Tensor& tensor,
                                  bool requires_grad) {
  check_new_name(name, "parameter");
  GRAFT_CHECK(tensor.defined(), type_name_, ": parameter \"", name,
              "\" is an undefined Tensor; leave an absent parameter (bias=false) unregistered");
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::replace_parameter(const std::string& name, const Tensor& tensor) {
  GRAFT_CHECK(tensor.defined(), type_name_, ".replace_parameter(): \"", name,
              "\" cannot become an undefined Tensor");
  for (auto& [registered, parameter] : parameters_) {
    if (registered != name) continue;
    parameter = tensor;
    return tensor;
  }
  std::ostringstream names;
  for (const auto& [registered, parameter] : parameters_)
    names << (names.tellp() > 0 ? ", " : "") << registered;
  detail::fail(type_name_, ".replace_parameter(): no parameter \"", name,
               "\" is registered here (its parameters: ", names.str(),
               "); register_parameter adds one");
}

Tensor Module::register_buffer(const std::string& name, const Tensor& tensor) {
  check_new_name(name, "buffer");
  GRAFT_CHECK(tensor.defined(), type_name_, ": buffer \"", name, "\" is an undefined Tensor");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "child module");
  GRAFT_CHECK(module != nullptr, type_name_, ": child module \"", name, "\" is null");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(bool parameters, bool recurse, const std::string& prefix,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, t] : parameters ? parameters_ : buffers_)
    out.emplace_back(prefix + name, t);
  if (!recurse) return;
  for (const auto& [name, child] : children_)
    child->collect(parameters, true, prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> all, out;
  collect(true, recurse, "", all);
  std::set<const TensorImpl*> seen;
  for (auto& entry : all)
    if (seen.insert(&entry.second.impl()).second) out.push_back(std::move(entry));
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> all, out;
  collect(false, recurse, "", all);
  std::set<const TensorImpl*> seen;
  for (auto& entry : all)
    if (seen.insert(&entry.second.impl()).second) out.push_back(std::move(entry));
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return values_of(named_parameters(recurse));
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  return values_of(named_buffers(recurse));
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

std::vector<Module*> Module::modules() {
  std::vector<Module*> out = {this};
  std::set<const Module*> seen = {this};
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<Module*> below;
    for (const auto& [name, child] : out[i]->children_)
      if (seen.insert(child.get()).second) below.push_back(child.get());
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(i) + 1, below.begin(), below.end());
  }
  return out;
}

Module& Module::train(bool on) {
  for (Module* m : modules()) m->training_ = on;
  return *this;
}

template <class Convert>
void Module::convert_tensors(Convert convert) {
  NoGradGuard no_grad;
  auto move = [&](const Tensor& t) {
    const Tensor moved = convert(t.detach());
    if (!moved.is_same(t)) t.set_data(moved);
  };
  for (const Tensor& p : parameters()) {
    move(p);
    if (p.grad().defined()) move(p.grad());
  }
  for (const Tensor& b : buffers()) move(b);
}

Module& Module::to(Device device) {
  convert_tensors([&](const Tensor& t) { return t.to(device); });
  return *this;
}

Module& Module::to(DType dtype) {
  GRAFT_CHECK(is_floating_point(dtype), type_name_, ".to(", dtype,
              "): modules can only be converted to a floating-point dtype (kFloat16, kBFloat16, "
              "kFloat32, kFloat64)");
  convert_tensors([&](const Tensor& t) { return is_floating_point(t.dtype()) ? t.to(dtype) : t; });
  return *this;
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const Tensor& p : parameters()) {
    if (!p.grad().defined()) continue;
    if (set_to_none)
      p.mutable_grad() = Tensor();
    else
      p.mutable_grad().zero_();
  }
}

StateDict Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect(true, true, "", all);
  collect(false, true, "", all);
  StateDict out;
  for (const auto& [name, t] : all) out.emplace(name, t.detach());
  return out;
}

LoadResult Module::load_state_dict(const StateDict& state_dict, bool strict) {
  const StateDict own = this->state_dict();
  LoadResult result;
  std::ostringstream mismatches;
  for (const auto& [key, t] : own) {
    const auto it = state_dict.find(key);
    if (it == state_dict.end()) {
      result.missing_keys.push_back(key);
    } else if (!it->second.defined() || it->second.shape() != t.shape()) {
      mismatches << "\n  size mismatch for " << key << ": copying a param with shape "
                 << (it->second.defined() ? it->second.shape() : Shape{})
                 << " from checkpoint, the shape in current model is " << t.shape() << ".";
    }
  }
  for (const auto& [key, t] : state_dict)
    if (own.count(key) == 0) result.unexpected_keys.push_back(key);
  std::ostringstream errors;
  if (strict && !result.missing_keys.empty())
    errors << "\n  Missing key(s) in state_dict: " << quoted_list(result.missing_keys) << ".";
  if (strict && !result.unexpected_keys.empty())
    errors << "\n  Unexpected key(s) in state_dict: " << quoted_list(result.unexpected_keys) << ".";
  const bool names_differ = !errors.str().empty();
  errors << mismatches.str();
  GRAFT_CHECK(
      errors.str().empty(), "load_state_dict(): Error(s) in loading state_dict for ", type_name_,
      ":", errors.str(),
      names_differ ? "\n  Pass strict=false to load the keys that match and skip the rest" : "");
  NoGradGuard no_grad;
  for (const auto& [key, t] : own) {
    const auto it = state_dict.find(key);
    if (it != state_dict.end()) t.copy_(it->second);
  }
  return result;
}

}  // namespace graft::nn
