// graft::nn: modules, layers, losses, initialisation and the functional forms.
// docs/nn.md walks through them; graft/graft.h includes this header.
#pragma once

#include "graft/nn/activation.h"
#include "graft/nn/attention.h"
#include "graft/nn/conv.h"
#include "graft/nn/functional.h"
#include "graft/nn/init.h"
#include "graft/nn/linear.h"
#include "graft/nn/loss.h"
#include "graft/nn/module.h"
#include "graft/nn/module_list.h"
#include "graft/nn/normalization.h"
#include "graft/nn/pooling.h"
#include "graft/nn/sequential.h"
