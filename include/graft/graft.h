// graft: NumPy on the GPU plus autograd, in C++.
//
//   #include <graft/graft.h>
//   namespace g = graft;
//   Eigen::MatrixXf m = Eigen::MatrixXf::Random(2, 3);
//   g::Tensor t = g::from_eigen(m);        // zero-copy view of m
//   g::Tensor y = (t * 2).relu().sum({1});  // NumPy-style math, broadcasting, reductions
//   std::cout << y << "\n";                 // tensor([..., ...])
//
// This umbrella header is all a user includes; see docs/tour.md for a walk through it.
#pragma once

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/eigen_view.h"
#include "graft/core/error.h"
#include "graft/core/scalar.h"
#include "graft/core/shape.h"
#include "graft/core/tensor.h"
#include "graft/core/warning.h"
#include "graft/kernels/cuda/runtime.h"
#include "graft/kernels/settings.h"

#include "graft/autograd/autocast.h"
#include "graft/autograd/engine.h"
#include "graft/autograd/grad_mode.h"
#include "graft/autograd/gradcheck.h"
#include "graft/autograd/init.h"
#include "graft/autograd/node.h"
#include "graft/autograd/ops.h"
#include "graft/autograd/to_dot.h"

#include "graft/io/dlpack.h"
#include "graft/io/npy.h"
#include "graft/io/npz.h"
#include "graft/io/safetensors.h"
#include "graft/io/state_dict.h"

#include "graft/data/dataloader.h"
#include "graft/data/dataset.h"
#include "graft/data/distributed_sampler.h"
#include "graft/data/fashion_mnist.h"
#include "graft/data/idx.h"
#include "graft/distributed/data_parallel.h"
#include "graft/distributed/distributed.h"
#include "graft/nn/nn.h"
#include "graft/optim/adam.h"
#include "graft/optim/clip.h"
#include "graft/optim/grad_scaler.h"
#include "graft/optim/rmsprop.h"
#include "graft/optim/scheduler.h"
#include "graft/optim/sgd.h"
