// graft-gpt's option tables (see gpt_options.h).
#include "gpt_options.h"

#include "command_line.h"
#include "graft/core/error.h"

namespace graft::examples {
namespace {

constexpr const char* kProgram = "graft-gpt";
using TrainOption = cli::Option<GptTrainOptions>;
using SampleOption = cli::Option<GptSampleOptions>;

const std::vector<TrainOption>& train_table() {
  using O = GptTrainOptions;
  static const std::vector<TrainOption> kOptions = {
      {"--config", "cpu|gpu", "the model and recipe (default cpu; see below)",
       cli::choice_into(&O::config, {"cpu", "gpu"})},
      {"--data", "FILE", "a UTF-8 text file to train on (default: Debian's fortunes)",
       cli::path_into(&O::data, "a text file")},
      {"--iters", "N", "iterations; the lr reaches --min-lr at the last (default: the config's)",
       cli::count_into(&O::iters, 1)},
      {"--batch-size", "N", "sequences per micro-batch (default: the config's)",
       cli::count_into(&O::batch_size, 1)},
      {"--grad-accum", "N", "micro-batches per optimizer step (default 1)",
       cli::count_into(&O::grad_accum, 1)},
      {"--lr", "X", "the peak learning rate (default 1e-3)", cli::positive_into(&O::lr)},
      {"--min-lr", "X", "the learning rate the cosine ends at (default 1e-4)",
       cli::non_negative_into(&O::min_lr)},
      {"--warmup", "N", "iterations of linear warmup (default 100)",
       cli::count_into(&O::warmup, 0)},
      {"--weight-decay", "W", "AdamW's decay of the weights of two or more dims (default 0.1)",
       cli::non_negative_into(&O::weight_decay)},
      {"--clip-grad-norm", "C", "clip the gradients' global norm to C (default 1.0; 0: off)",
       cli::non_negative_into(&O::clip_grad_norm)},
      {"--eval-interval", "N", "measure both losses every N iterations (default 250)",
       cli::count_into(&O::eval_interval, 1)},
      {"--eval-iters", "N", "batches per split in each measurement (default: the config's)",
       cli::count_into(&O::eval_iters, 1)},
      {"--seed", "N", "seed of the initialisation, the batches and dropout (default 0)",
       cli::seed_into(&O::seed)},
      {"--amp", "none|bf16",
       "bf16: matmuls in bfloat16 under autocast, weights float32 "
       "(default none)",
       cli::choice_into(&O::amp, {"none", "bf16"})},
      {"--device", "auto|cpu|cuda", "where to train (default auto: cuda when available)",
       cli::choice_into(&O::device, {"auto", "cpu", "cuda"})},
      {"--out", "DIR", "output folder (default runs/gpt-<UTC date-time>)",
       cli::path_into(&O::out, "a folder")},
      {"--resume", "CKPT", "continue the run saved in checkpoint CKPT",
       cli::path_into(&O::resume, "a checkpoint file")},
      {"--threads", "N", "CPU threads (default: OMP_NUM_THREADS, else the free cores)",
       cli::count_into(&O::threads, 1)},
      {"--max-iters", "N", "stop resumably after N iterations in all (default 0: no limit)",
       cli::count_into(&O::max_iters, 0)},
      {"--help", nullptr, "print this help and exit", cli::flag_into(&O::help)},
  };
  return kOptions;
}

const std::vector<SampleOption>& sample_table() {
  using O = GptSampleOptions;
  static const std::vector<SampleOption> kOptions = {
      {"--checkpoint", "CKPT", "the trained model (required)",
       cli::path_into(&O::checkpoint, "a checkpoint file")},
      {"--prompt", "TEXT", "the text to continue (default: a newline)",
       [](O& o, const cli::Arg& a) { o.prompt = a.value; }},
      {"--tokens", "N", "characters to generate (default 500)", cli::count_into(&O::tokens, 0)},
      {"--samples", "N", "samples to write, each from the prompt (default 1)",
       cli::count_into(&O::samples, 1)},
      {"--temperature", "T", "divide the logits by T > 0 (default 0.8)",
       cli::positive_into(&O::temperature)},
      {"--top-k", "K", "sample among the K likeliest characters (default 200; 0: all)",
       cli::count_into(&O::top_k, 0)},
      {"--seed", "N", "seed of the sampling (default 1337)", cli::seed_into(&O::seed)},
      {"--device", "auto|cpu|cuda", "where to run (default auto: cuda when available)",
       cli::choice_into(&O::device, {"auto", "cpu", "cuda"})},
      {"--help", nullptr, "print this help and exit", cli::flag_into(&O::help)},
  };
  return kOptions;
}

}  // namespace

GptCommand parse_gpt_args(const std::vector<std::string>& args) {
  GptCommand command;
  if (!args.empty() && args[0] == "sample") {
    command.sample = true;
    cli::parse_options(std::string(kProgram) + " sample", sample_table(),
                       {args.begin() + 1, args.end()}, command.sampling);
    GRAFT_CHECK(command.sampling.help || !command.sampling.checkpoint.empty(),
                "graft-gpt sample: --checkpoint CKPT is required (see graft-gpt --help)");
    return command;
  }
  const bool named = !args.empty() && args[0] == "train";
  cli::parse_options(kProgram, train_table(), {args.begin() + (named ? 1 : 0), args.end()},
                     command.train);
  return command;
}

std::string gpt_usage() {
  return "usage: graft-gpt [train] [options]\n"
         "       graft-gpt sample --checkpoint CKPT [options]\n"
         "Trains a character-level GPT (nanoGPT's model and recipe) on a text, and samples\n"
         "from it. Training writes, into the output folder, metrics.csv (train and\n"
         "validation loss every --eval-interval iterations), loss.svg, and\n"
         "checkpoint.safetensors (the model, the optimizer, the tokenizer and where the run\n"
         "is; --resume continues from it). Ctrl-C stops after the current iteration and\n"
         "writes the checkpoint.\n\ntrain options:\n" +
         cli::options_help(train_table()) + "\nsample options:\n" +
         cli::options_help(sample_table()) +
         "\nconfigs (nanoGPT's): cpu  4 layers, 4 heads, width 128, context 64, batch 12,\n"
         "                           2000 iterations, no dropout\n"
         "                     gpu  6 layers, 6 heads, width 384, context 256, batch 64,\n"
         "                           5000 iterations, dropout 0.2\n"
         "\nThe default corpus is the regular files of /usr/share/games/fortunes (Debian's\n"
         "fortunes package, installed by the README's set-up), in name order: about 2.58\n"
         "million characters. The last 10% of the text is the validation split.\n";
}

}  // namespace graft::examples
