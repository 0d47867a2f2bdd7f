// graft-train's checkpoint: one safetensors file holding the model's state dict, the
// optimizer's state, and what is needed to resume the run or to use the model.
//
//   tensors   "model.<name>"      the model's state dict ("model.1.weight", ...)
//             "optimizer.<key>"   the optimizer's state dict ("optimizer.state.0.exp_avg")
//             "scaler.<key>"      a --amp fp16 run's GradScaler state ("scaler.scale")
//   metadata  model, optimizer     "cnn", "adam": which code rebuilds them
//             epoch, step          epochs and optimizer steps completed
//             step_in_epoch        batches of the next epoch done (a run stopped mid-epoch)
//             epoch_loss_sum       their summed loss, so the epoch's mean comes out whole
//             seed                 the run's seed (the shuffle of epoch e is drawn from it)
//             normalize_mean/std   the input normalisation the model was trained with
//             batch_size, limit, val_fraction, lr, lr_schedule, schedule_epochs, warmup,
//             weight_decay, clip_grad_norm, amp: the options that change the run's numbers
//             world_size           the processes that trained it
//             (world_size and amp are absent from older checkpoints: one process, float32)
//
// A run stopped mid-epoch resumes exactly: the model, the optimizer state, the schedule
// (a function of the step), and the data order (seed, epoch, step_in_epoch) are all here.
// Checkpoint-step files: --save-every N writes checkpoint-step<N>.safetensors beside the
// latest, and prune_step_checkpoints keeps the newest --keep-last of them.
//
// The file's layout (the two prefixes, atomic writes) is state_file.h's.
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
  int64_t step_in_epoch = 0;
  double epoch_loss_sum = 0;
  int64_t batch_size = 64;
  int64_t limit = 0;
  double val_fraction = 0.1;
  double lr = 1e-3;
  std::string lr_schedule = "constant";
  int64_t schedule_epochs = 0;  // the --epochs a schedule with an end was made for
  int64_t warmup = 0;
  double weight_decay = 0;
  double clip_grad_norm = 0;
  // The processes that trained it (graft-train --distributed; batch_size is the global
  // batch). A run may resume with another count: the same global batch, not the same bits.
  int64_t world_size = 1;
  // --amp: "none" (float32), "bf16" or "fp16", the forward under autocast; the weights,
  // their gradients and the optimizer state stay float32 either way.
  std::string amp = "none";
};

struct Checkpoint {
  CheckpointInfo info;
  StateDict model;      // keys without the "model." prefix
  StateDict optimizer;  // keys without the "optimizer." prefix
  StateDict scaler;     // amp::GradScaler's state of a --amp fp16 run, else empty
};

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// Reads a file written by save_checkpoint. A file without graft-train's metadata, or with a
// value that does not parse, is an error naming the file and the key.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// "checkpoint-step<step>.safetensors".
std::string step_checkpoint_name(int64_t step);
// Removes all but the `keep` newest (by step) checkpoint-step files in `folder`.
void prune_step_checkpoints(const std::filesystem::path& folder, int64_t keep);

}  // namespace graft::examples
