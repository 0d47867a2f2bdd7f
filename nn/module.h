// Module: the base of every layer and model: named parameters, buffers and child modules,
// train/eval mode, moving to a device or dtype, and state dicts.
//
// How modules are held: a module is a plain C++ object, created and moved by value
// (`nn::Linear fc(4, 3);`). A parent owns its children through std::shared_ptr: registering
// a child (register_module, or passing it to Sequential) moves it into a shared_ptr, and
// register_module hands that pointer back for the parent to keep as a typed member. Modules
// are move-only: a copy would share every parameter (Tensor is a handle), which is rarely
// what a copy is meant to do.
//
// Parameters and buffers are Tensor handles. A layer keeps them as members (`weight`) and
// registers the same handle by name, so the member and the registry agree until the member
// is assigned another tensor (replace_parameter changes both, for weight tying); to()
// keeps each handle's identity (Tensor::set_data), so an optimizer built over parameters()
// before `net.to(kCUDA)` updates the moved tensors. Names are PyTorch's: registration
// order is kept, and state_dict() keys are dotted paths ("0.weight", "features.1.bias").
//
//   struct Net : graft::nn::Module {
//     std::shared_ptr<graft::nn::Linear> fc1, fc2;
//     Net() : Module("Net") {
//       fc1 = register_module("fc1", graft::nn::Linear(784, 128));
//       fc2 = register_module("fc2", graft::nn::Linear(128, 10));
//     }
//     graft::Tensor forward(const graft::Tensor& x) override { return (*fc2)((*fc1)(x).relu()); }
//   };
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graft/core/tensor.h"
#include "graft/io/state_dict.h"

namespace graft::nn {

// The keys load_state_dict(strict = false) skipped: expected but absent, and present but
// unknown (PyTorch's _IncompatibleKeys).
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The layer's computation. Modules taking other arguments (losses) define their own
  // operator(); calling this one on them is an error naming the module.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // "Linear", "Sequential": what errors and state-dict messages call this module.
  const std::string& type_name() const { return type_name_; }

  // ---- what the module holds. Each list is in registration order, children's entries after
  // the module's own, a tensor or module reached twice listed once (as PyTorch).
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // This module first, then every descendant depth-first (non-owning pointers, valid while
  // this module lives).
  std::vector<Module*> modules();

  // ---- mode and placement
  // Sets training mode on this module and every descendant (dropout, batch norm read it).
  Module& train(bool on = true);
  Module& eval() { return train(false); }
  bool is_training() const { return training_; }
  // Moves every parameter, buffer and gradient; each tensor keeps its identity.
  Module& to(Device device);
  Module& to(DeviceType type) { return to(Device(type)); }
  // Converts the floating-point parameters, buffers and gradients (integer buffers such as
  // batch norm's num_batches_tracked keep their dtype); `dtype` must be floating-point.
  Module& to(DType dtype);
  // Drops every parameter's gradient (set_to_none, PyTorch's default) or zeroes it.
  void zero_grad(bool set_to_none = true);

  // Makes `tensor` the parameter `name` of this module, in place of the one registered under
  // that name, and returns it for the member to hold: weight tying, PyTorch's
  // `self.head.weight = self.emb.weight`, is
  //   head->weight = head->replace_parameter("weight", emb->weight);
  // Assigning the member alone would leave parameters() and state_dict() on the old tensor.
  Tensor replace_parameter(const std::string& name, const Tensor& tensor);

  // ---- checkpoints
  // Parameters and buffers by dotted name; the tensors share memory with the module's but
  // carry no autograd history.
  StateDict state_dict() const;
  // Copies the values of `state_dict` into the module's tensors (converting dtype and
  // device). Any tensor whose shape differs is an error naming the key and both shapes;
  // with strict, so is a missing or an unexpected key. Everything is checked before
  // anything is written, so a failed load changes nothing.
  LoadResult load_state_dict(const StateDict& state_dict, bool strict = true);

 protected:
  // Registers `tensor` as the parameter `name` (requires_grad set) and returns it, for the
  // layer to keep as a member.
  Tensor register_parameter(const std::string& name, const Tensor& tensor,
                            bool requires_grad = true);
  // Registers state that is not trained but belongs in the state dict (running means).
  Tensor register_buffer(const std::string& name, const Tensor& tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, M module) {
    return register_module(name, std::make_shared<M>(std::move(module)));
  }
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  // Every (dotted name, tensor) of the parameters or buffers below this module.
  void collect(bool parameters, bool recurse, const std::string& prefix,
               std::vector<std::pair<std::string, Tensor>>& out) const;
  // Replaces the data of every parameter, buffer and gradient by convert(data).
  template <class Convert>
  void convert_tensors(Convert convert);

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace graft::nn
