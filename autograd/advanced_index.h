// Advanced indexing: t.index({...}) and t.index_put_({...}, values) when the index holds
// tensors (ops_advanced_index.cpp). Internal to the op layer: users reach it through those
// two methods; core/ reaches advanced_index through its hook table (core/hooks.h).
#pragma once

#include <vector>

#include "graft/core/tensor.h"

namespace graft {

// `self` indexed by `indices`, in the convention detail::apply_slicing hands them over
// (core/tensor_index.h): entry i covers the next dim of self, an undefined entry a whole dim,
// a bool or uint8 mask as many dims as it has. Returns a new tensor (a copy), differentiable.
Tensor advanced_index(const Tensor& self, const std::vector<Tensor>& indices);

// Writes `values`, broadcast to the shape advanced_index would return, where it reads; with
// `accumulate`, adds them there instead. Differentiable in self and values.
const Tensor& advanced_index_put_(const Tensor& self, const std::vector<Tensor>& indices,
                                  const Tensor& values, bool accumulate);

}  // namespace graft
