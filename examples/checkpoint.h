// graft-train's checkpoint: one safetensors file holding the model's state dict, the
// optimizer's state, and what is needed to resume the run or to use the model.
//
//   tensors   "model.<name>"      the model's state dict ("model.1.weight", ...)
//             "optimizer.<key>"   the optimizer's state dict ("optimizer.state.0.exp_avg")
//   metadata  model, optimizer     "cnn", "adam": which code rebuilds them
//             epoch, step          epochs and optimizer steps completed
//             seed                 the run's seed (the shuffle of epoch e is drawn from it)
//             normalize_mean/std   the input normalisation the model was trained with
//
// The prefixes keep the two state dicts apart in one file, as a PyTorch checkpoint dict
// {"model": ..., "optimizer": ...} does; in Python, the model's tensors are
// `{k[6:]: v for k, v in load_file(path).items() if k.startswith("model.")}`.
// graft::save writes the file atomically, so a run killed mid-save leaves the previous
// checkpoint whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "graft/io/state_dict.h"

namespace graft::examples {

struct CheckpointInfo {
  std::string model;      // a models.h name
  std::string optimizer;  // "sgd", "adam", "adamw"
  int64_t epoch = 0;
  int64_t step = 0;
  uint64_t seed = 0;
  double normalize_mean = 0;
  double normalize_std = 1;
};

struct Checkpoint {
  CheckpointInfo info;
  StateDict model;      // keys without the "model." prefix
  StateDict optimizer;  // keys without the "optimizer." prefix
};

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// Reads a file written by save_checkpoint. A file without graft-train's metadata, or with a
// value that does not parse, is an error naming the file and the key.
Checkpoint load_checkpoint(const std::filesystem::path& path);

}  // namespace graft::examples
