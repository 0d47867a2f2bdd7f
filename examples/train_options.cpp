// graft-train's option parser (see train_options.h): one table lists every option with the
// code that stores its value (command_line.h parses it and prints it for --help).
#include "train_options.h"

#include <cmath>

#include "command_line.h"
#include "schedule.h"

namespace graft::examples {
namespace {

const std::vector<cli::Option<TrainOptions>>& option_table() {
  static const std::vector<cli::Option<TrainOptions>> kOptions = {
      {"--model", "mlp|cnn",
       std::string("the model (default ") + TrainOptions::kDefaultModel +
           "; a resumed run: the checkpoint's)",
       cli::choice_into(&TrainOptions::model, {"mlp", "cnn"})},
      {"--epochs", "N",
       "train until N epochs are done (default " + std::to_string(TrainOptions::kDefaultEpochs) +
           "; 0: no training)",
       cli::count_into(&TrainOptions::epochs, 0)},
      {"--batch-size", "N", "examples per batch (default 64; a resumed run: the checkpoint's)",
       cli::count_into(&TrainOptions::batch_size, 1)},
      {"--lr", "X", "learning rate (default 1e-3 for adam/adamw, 0.01 for sgd)",
       cli::positive_into(&TrainOptions::lr)},
      {"--optimizer", "sgd|adam|adamw", "the optimizer (default adam; sgd uses momentum 0.9)",
       cli::choice_into(&TrainOptions::optimizer, {"sgd", "adam", "adamw"})},
      {"--device", "auto|cpu|cuda", "where to train (default auto: cuda when available)",
       cli::choice_into(&TrainOptions::device, {"auto", "cpu", "cuda"})},
      {"--seed", "N", "seed of the initialisation and the shuffle (default 0)",
       cli::seed_into(&TrainOptions::seed)},
      {"--out", "DIR", "output folder (default runs/<UTC date-time>)",
       cli::path_into(&TrainOptions::out, "a folder")},
      {"--resume", "CKPT", "continue the run saved in checkpoint CKPT",
       cli::path_into(&TrainOptions::resume, "a checkpoint file")},
      {"--limit", "N", "use the first N training images only (default 0: all)",
       cli::count_into(&TrainOptions::limit, 0)},
      {"--val-fraction", "F",
       "validate on the last F of the training images, 0 <= F < 1 (default 0.1)",
       [](TrainOptions& o, const cli::Arg& a) {
         const auto f = cli::parse_number<double>(a, "a number");
         if (!(f >= 0 && f < 1)) cli::usage_error(a, "must be in [0, 1), got " + a.value);
         o.val_fraction = f;
       }},
      {"--lr-schedule", "constant|cosine|onecycle|step",
       std::string("the lr over the steps (default ") + TrainOptions::kDefaultSchedule + ")",
       cli::choice_into(&TrainOptions::lr_schedule, schedule_names())},
      {"--warmup", "N", "ramp the lr up linearly over the first N steps (default 0)",
       cli::count_into(&TrainOptions::warmup, 0)},
      {"--weight-decay", "W", "weight decay (default 0.01 for adamw, 0 for sgd and adam)",
       cli::non_negative_into(&TrainOptions::weight_decay)},
      {"--clip-grad-norm", "C", "clip the gradients' global norm to C (default 0: off)",
       cli::non_negative_into(&TrainOptions::clip_grad_norm)},
      {"--amp", "none|bf16|fp16",
       "mixed precision: the forward under autocast in bfloat16 or float16 (fp16 with loss "
       "scaling); weights and optimizer state stay float32 (default none)",
       cli::choice_into(&TrainOptions::amp, {"none", "bf16", "fp16"})},
      {"--threads", "N", "CPU threads (default: OMP_NUM_THREADS, else the free cores)",
       cli::count_into(&TrainOptions::threads, 1)},
      {"--data", "DIR", "the Fashion-MNIST folder (default $GRAFT_DATA, else Debian's)",
       cli::path_into(&TrainOptions::data, "a folder")},
      {"--save-every", "N", "also checkpoint every N steps (default 0: each epoch only)",
       cli::count_into(&TrainOptions::save_every, 0)},
      {"--keep-last", "K", "keep the K newest checkpoint-step files (default 3)",
       cli::count_into(&TrainOptions::keep_last, 1)},
      {"--max-steps", "N", "stop resumably after N steps in all (default 0: no limit)",
       cli::count_into(&TrainOptions::max_steps, 0)},
      {"--tensorboard", "DIR", "also write TensorBoard event files into DIR",
       cli::path_into(&TrainOptions::tensorboard, "a folder")},
      {"--export-images", "K", "write K test images as PGM files into OUT/images",
       cli::count_into(&TrainOptions::export_images, 0)},
      {"--distributed", nullptr,
       "train data-parallel with every process mpirun started (docs/distributed.md)",
       cli::flag_into(&TrainOptions::distributed)},
      {"--help", nullptr, "print this help and exit", cli::flag_into(&TrainOptions::help)},
  };
  return kOptions;
}

}  // namespace

TrainOptions parse_train_args(const std::vector<std::string>& args) {
  TrainOptions options;
  cli::parse_options("graft-train", option_table(), args, options);
  return options;
}

std::string train_usage() {
  std::string text =
      "usage: graft-train [options]\n"
      "Trains an MLP or a small CNN on Fashion-MNIST and writes, into the output folder,\n"
      "metrics.csv, checkpoint.safetensors, best.safetensors and curves.svg after each\n"
      "epoch, steps.csv (a row per optimizer step), and test.csv (the test set, measured\n"
      "once) at the end.\n\noptions:\n";
  text += cli::options_help(option_table());
  text +=
      "\nThe data: --data, else $GRAFT_DATA, else /usr/share/datasets/fashion-mnist\n"
      "(Debian's dataset-fashion-mnist package). By default the CPU kernels use the\n"
      "cores that other processes leave free, measured as the run goes.\n"
      "lr schedules: cosine falls to 0 at the last step, onecycle rises to --lr and falls,\n"
      "step multiplies it by 0.7 each epoch (docs/training.md).\n"
      "Ctrl-C or SIGTERM: the run stops after the current step and writes a resumable\n"
      "checkpoint (a second signal stops it at once).\n";
  return text;
}

double default_lr(const std::string& optimizer) { return optimizer == "sgd" ? 0.01 : 1e-3; }

double default_weight_decay(const std::string& optimizer) {
  return optimizer == "adamw" ? 0.01 : 0.0;
}

}  // namespace graft::examples
