// graft-gpt's checkpoint: state_file.h's layout (the model's and the optimizer's state dicts
// in one safetensors file) with, as metadata, everything needed to rebuild the model, to
// speak its language, and to resume the run exactly:
//
//   program      "graft-gpt" (a graft-train checkpoint is refused by name)
//   config       "cpu" | "gpu", and the model's numbers: vocab_size, block_size, n_layer,
//                n_head, n_embd, dropout, bias
//   vocabulary   the tokenizer: its characters in token order, as UTF-8
//   corpus       where the text came from ("fortunes" or the --data file)
//   iter         iterations completed; wall_time_s, the training time they took
//   seed, iters, batch_size, grad_accum, lr, min_lr, warmup, weight_decay, clip_grad_norm,
//   eval_interval, eval_iters, amp: the settings that change the run's numbers (amp is
//   absent from checkpoints written before --amp existed: those ran in float32)
//
// Iteration i draws its batches and dropout masks from the random stream of (seed, i), so a
// resumed run makes the same iterations the uninterrupted one would have.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "gpt_model.h"
#include "graft/io/state_dict.h"

namespace graft::examples {

struct GptRun {
  std::string config = "cpu";
  GptConfig model;
  std::string vocabulary;
  std::string corpus;
  int64_t iter = 0;
  double wall_time_s = 0;
  uint64_t seed = 0;
  int64_t iters = 0;
  int64_t batch_size = 0;
  int64_t grad_accum = 1;
  double lr = 1e-3;
  double min_lr = 1e-4;
  int64_t warmup = 100;
  double weight_decay = 0.1;
  double clip_grad_norm = 1.0;
  int64_t eval_interval = 250;
  int64_t eval_iters = 20;
  std::string amp = "none";  // "none" | "bf16"
};

struct GptCheckpoint {
  GptRun run;
  StateDict model;
  StateDict optimizer;
};

void save_gpt_checkpoint(const std::filesystem::path& path, const GptCheckpoint& checkpoint);
// A file without graft-gpt's metadata, or with a value that does not parse, is an error
// naming the file and the key.
GptCheckpoint load_gpt_checkpoint(const std::filesystem::path& path);

}  // namespace graft::examples
