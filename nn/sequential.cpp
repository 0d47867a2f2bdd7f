// Sequential's forward chain and indexing (see sequential.h).
#include "graft/nn/sequential.h"

#include <string>

namespace graft::nn {

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& [name, module] : named_children()) x = (*module)(x);
  return x;
}

std::shared_ptr<Module> Sequential::ptr(int64_t index) const {
  const auto n = static_cast<int64_t>(size());
  GRAFT_CHECK(index >= -n && index < n, "Sequential: index ", index,
              " is out of range for a Sequential of ", n, " modules");
  return named_children()[static_cast<size_t>(index < 0 ? index + n : index)].second;
}

void Sequential::fail_type(int64_t index) const {
  detail::fail("Sequential::at(", index, "): the module there is a ", ptr(index)->type_name(),
               ", not the type asked for");
}

}  // namespace graft::nn
