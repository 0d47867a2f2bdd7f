#pragma once
// TODO-STUB: replaced by the Eigen view helper.
#include "graft/core/tensor.h"
