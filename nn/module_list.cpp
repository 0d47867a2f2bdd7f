// ModuleList's registration and indexing (see module_list.h).
#include "graft/nn/module_list.h"

namespace graft::nn {

void ModuleList::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> ModuleList::ptr(int64_t index) const {
  const auto n = static_cast<int64_t>(size());
  if (index < -n || index >= n)
    throw IndexError(detail::make_message(type_name(), ": index ", index, " is out of range for a ",
                                          type_name(), " of ", n, " modules"));
  return named_children()[static_cast<size_t>(index < 0 ? index + n : index)].second;
}

void ModuleList::fail_type(int64_t index) const {
  detail::fail(type_name(), "::at(", index, "): the module there is a ", ptr(index)->type_name(),
               ", not the type asked for");
}

}  // namespace graft::nn
