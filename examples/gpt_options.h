// graft-gpt's command line: `graft-gpt [train] [options]` and `graft-gpt sample [options]`,
// their defaults, and the parsers (command_line.h) that check them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace graft::examples {

struct GptTrainOptions {
  // Every std::optional changes the run's numbers: unset means the checkpoint's value when
  // resuming, else the default; a set one must agree with the checkpoint.
  std::optional<std::string> config;  // "cpu" | "gpu" (default cpu)
  std::optional<std::string> data;    // a UTF-8 text file; empty: the fortunes corpus
  std::optional<int64_t> iters, batch_size, grad_accum, warmup, eval_interval, eval_iters;
  std::optional<double> lr, min_lr, weight_decay, clip_grad_norm;
  std::optional<uint64_t> seed;
  std::optional<std::string> amp;  // "none" | "bf16" (default none)
  std::string device = "auto";     // "auto" | "cpu" | "cuda"
  std::string out;                 // empty: runs/gpt-<UTC date-time>
  std::string resume;              // a checkpoint to continue from
  int64_t threads = 0;             // CPU threads; 0: the default
  int64_t max_iters = 0;           // stop (resumably) after N iterations in all; 0: no limit
  bool help = false;
};

struct GptSampleOptions {
  std::string checkpoint;  // required
  std::string prompt = "\n";
  int64_t tokens = 500;      // characters to generate per sample
  int64_t samples = 1;       // how many samples, each from the prompt
  double temperature = 0.8;  // > 0; lower is more conservative
  int64_t top_k = 200;       // sample among the k likeliest; 0: all
  uint64_t seed = 1337;
  std::string device = "auto";
  bool help = false;
};

// The words after the program name; a first word "sample" selects sampling, "train" (or
// none) training.
struct GptCommand {
  bool sample = false;
  GptTrainOptions train;
  GptSampleOptions sampling;
};
GptCommand parse_gpt_args(const std::vector<std::string>& args);

std::string gpt_usage();

}  // namespace graft::examples
