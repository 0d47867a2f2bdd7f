// Sequential: runs its modules one after the other, each on the previous one's output.
//
//   nn::Sequential net(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 1));
//   net.push_back(nn::Sigmoid());
//   auto& fc = net.at<nn::Linear>(0);  // typed access; net[0] is a Module&
//
// A ModuleList (module_list.h: children "0", "1", ..., indexing, typed access) with a forward.
#pragma once

#include <utility>

#include "graft/nn/module_list.h"

namespace graft::nn {

class Sequential : public ModuleList {
 public:
  Sequential() : ModuleList("Sequential") {}
  template <ModuleType... Modules>
  explicit Sequential(Modules&&... modules) : ModuleList("Sequential") {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  // An empty Sequential is the identity.
  Tensor forward(const Tensor& input) override;
};

}  // namespace graft::nn
