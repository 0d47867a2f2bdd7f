// Sequential: runs its modules one after the other, each on the previous one's output.
//
//   nn::Sequential net(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 1));
//   net.push_back(nn::Sigmoid());
//   auto& fc = net.at<nn::Linear>(0);  // typed access; net[0] is a Module&
//
// The modules are children named "0", "1", ... (PyTorch's state-dict names "0.weight").
// They are taken by value (moved into shared ownership) or as a shared_ptr to share a
// module with other code.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "graft/nn/module.h"

namespace graft::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  template <class... Modules>
  explicit Sequential(Modules&&... modules) : Module("Sequential") {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  template <class M, class = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>>>>
  void push_back(M&& module) {
    push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  void push_back(std::shared_ptr<Module> module);

  Tensor forward(const Tensor& input) override;

  size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }
  // The module at `index` (negative counts from the end); out of range is an error.
  Module& operator[](int64_t index) const { return *ptr(index); }
  std::shared_ptr<Module> ptr(int64_t index) const;
  // The module at `index` as its own type; an error names both types when it is another.
  template <class M>
  M& at(int64_t index) const {
    auto* module = dynamic_cast<M*>(ptr(index).get());
    if (module == nullptr) fail_type(index);
    return *module;
  }

 private:
  [[noreturn]] void fail_type(int64_t index) const;
};

}  // namespace graft::nn
