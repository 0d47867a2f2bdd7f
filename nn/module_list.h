// ModuleList: modules held in order and reached by index, for a parent whose forward calls
// them itself (a transformer's blocks, each taking more than one tensor), PyTorch's
// nn.ModuleList:
//
//   nn::ModuleList blocks;
//   for (int i = 0; i < 4; ++i) blocks.push_back(Block(config));
//   h = register_module("h", std::move(blocks));
//   for (const auto& block : h->children()) x = (*block)(x);
//   auto& first = h->at<Block>(0);  // typed access; (*h)[0] is a Module&
//
// The modules are children named "0", "1", ... (PyTorch's state-dict names "h.0.weight").
// They are taken by value (moved into shared ownership) or as a shared_ptr to share a
// module with other code. Sequential is a ModuleList with a forward that chains them.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "graft/nn/module.h"

namespace graft::nn {

// A module passed by value or reference (not the type-name string of the protected
// constructor, which a bare variadic template would swallow).
template <class M>
concept ModuleType = std::is_base_of_v<Module, std::decay_t<M>>;

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  template <ModuleType... Modules>
  explicit ModuleList(Modules&&... modules) : Module("ModuleList") {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  template <ModuleType M>
  void push_back(M&& module) {
    push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  void push_back(std::shared_ptr<Module> module);

  size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }
  // The module at `index` (negative counts from the end); out of range is a
  // graft::IndexError.
  Module& operator[](int64_t index) const { return *ptr(index); }
  std::shared_ptr<Module> ptr(int64_t index) const;
  // The module at `index` as its own type; an error names both types when it is another.
  template <class M>
  M& at(int64_t index) const {
    auto* module = dynamic_cast<M*>(ptr(index).get());
    if (module == nullptr) fail_type(index);
    return *module;
  }

 protected:
  // For a subclass that is a list under another name (Sequential).
  explicit ModuleList(std::string type_name) : Module(std::move(type_name)) {}

 private:
  [[noreturn]] void fail_type(int64_t index) const;
};

}  // namespace graft::nn
