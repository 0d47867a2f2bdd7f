// graft-train's option parser (see train_options.h). One table lists every option with the
// code that stores its value, so the parser, the checks and --help cannot drift apart.
#include "train_options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <string_view>
#include <system_error>

#include "graft/core/error.h"
#include "schedule.h"

namespace graft::examples {
namespace {

[[noreturn]] void usage_error(const std::string& option, const std::string& what) {
  detail::fail("graft-train: ", option, ": ", what, " (see graft-train --help)");
}

template <class T>
T parse_number(const std::string& option, const std::string& text, const char* expected) {
  T value{};
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size())
    usage_error(option, "expected " + std::string(expected) + ", got '" + text + "'");
  return value;
}

double parse_non_negative(const std::string& option, const std::string& text) {
  const auto value = parse_number<double>(option, text, "a number");
  if (!(value >= 0) || !std::isfinite(value))
    usage_error(option, "must be a finite number >= 0, got " + text);
  return value;
}

int64_t parse_count(const std::string& option, const std::string& text, int64_t min) {
  const auto value = parse_number<int64_t>(option, text, "an integer");
  if (value < min) usage_error(option, "must be at least " + std::to_string(min) + ", got " + text);
  return value;
}

std::string parse_choice(const std::string& option, const std::string& text,
                         const std::vector<std::string>& choices) {
  std::string listed;
  for (const std::string& c : choices) {
    if (c == text) return text;
    listed += (listed.empty() ? "" : ", ") + c;
  }
  usage_error(option, "unknown value '" + text + "'; choose one of " + listed);
}

// How an option's value lands in TrainOptions; (options, option name, value text).
using Store = std::function<void(TrainOptions&, const std::string&, const std::string&)>;

struct Option {
  const char* name;
  const char* value;  // nullptr: a flag without a value
  std::string help;
  Store store;
};

// The stores most options share: a count of at least `min`, a non-negative number, and a
// path that must not be empty (`what` names it in the error).
template <class Field>
Store count_into(Field TrainOptions::*field, int64_t min) {
  return [field, min](TrainOptions& o, const std::string& n, const std::string& v) {
    o.*field = parse_count(n, v, min);
  };
}
template <class Field>
Store non_negative_into(Field TrainOptions::*field) {
  return [field](TrainOptions& o, const std::string& n, const std::string& v) {
    o.*field = parse_non_negative(n, v);
  };
}
Store path_into(std::string TrainOptions::*field, const char* what) {
  return [field, what](TrainOptions& o, const std::string& n, const std::string& v) {
    if (v.empty()) usage_error(n, std::string("expected ") + what + ", got an empty string");
    o.*field = v;
  };
}

const std::vector<Option>& option_table() {
  static const std::vector<Option> kOptions = {
      {"--model", "mlp|cnn",
       std::string("the model (default ") + TrainOptions::kDefaultModel +
           "; a resumed run: the checkpoint's)",
       [](TrainOptions& o, const std::string& n, const std::string& v) {
         o.model = parse_choice(n, v, {"mlp", "cnn"});
       }},
      {"--epochs", "N",
       "train until N epochs are done (default " + std::to_string(TrainOptions::kDefaultEpochs) +
           "; 0: no training)",
       count_into(&TrainOptions::epochs, 0)},
      {"--batch-size", "N", "examples per batch (default 64; a resumed run: the checkpoint's)",
       count_into(&TrainOptions::batch_size, 1)},
      {"--lr", "X", "learning rate (default 1e-3 for adam/adamw, 0.01 for sgd)",
       [](TrainOptions& o, const std::string& n, const std::string& v) {
         const auto lr = parse_number<double>(n, v, "a number");
         if (!(lr > 0) || !std::isfinite(lr)) usage_error(n, "must be positive, got " + v);
         o.lr = lr;
       }},
      {"--optimizer", "sgd|adam|adamw", "the optimizer (default adam; sgd uses momentum 0.9)",
       [](TrainOptions& o, const std::string& n, const std::string& v) {
         o.optimizer = parse_choice(n, v, {"sgd", "adam", "adamw"});
       }},
      {"--device", "auto|cpu|cuda", "where to train (default auto: cuda when available)",
       [](TrainOptions& o, const std::string& n, const std::string& v) {
         o.device = parse_choice(n, v, {"auto", "cpu", "cuda"});
       }},
      {"--seed", "N", "seed of the initialisation and the shuffle (default 0)",
       [](TrainOptions& o, const std::string& n, const std::string& v) {
         o.seed = parse_number<uint64_t>(n, v, "a non-negative integer");
       }},
      {"--out", "DIR", "output folder (default runs/<UTC date-time>)",
       path_into(&TrainOptions::out, "a folder")},
      {"--resume", "CKPT", "continue the run saved in checkpoint CKPT",
       path_into(&TrainOptions::resume, "a checkpoint file")},
      {"--limit", "N", "use the first N training images only (default 0: all)",
       count_into(&TrainOptions::limit, 0)},
      {"--val-fraction", "F",
       "validate on the last F of the training images, 0 <= F < 1 (default 0.1)",
       [](TrainOptions& o, const std::string& n, const std::string& v) {
         const auto f = parse_number<double>(n, v, "a number");
         if (!(f >= 0 && f < 1)) usage_error(n, "must be in [0, 1), got " + v);
         o.val_fraction = f;
       }},
      {"--lr-schedule", "constant|cosine|onecycle|step",
       std::string("the lr over the steps (default ") + TrainOptions::kDefaultSchedule + ")",
       [](TrainOptions& o, const std::string& n, const std::string& v) {
         o.lr_schedule = parse_choice(n, v, schedule_names());
       }},
      {"--warmup", "N", "ramp the lr up linearly over the first N steps (default 0)",
       count_into(&TrainOptions::warmup, 0)},
      {"--weight-decay", "W", "weight decay (default 0.01 for adamw, 0 for sgd and adam)",
       non_negative_into(&TrainOptions::weight_decay)},
      {"--clip-grad-norm", "C", "clip the gradients' global norm to C (default 0: off)",
       non_negative_into(&TrainOptions::clip_grad_norm)},
      {"--threads", "N", "CPU threads (default: OMP_NUM_THREADS, else the free cores)",
       count_into(&TrainOptions::threads, 1)},
      {"--data", "DIR", "the Fashion-MNIST folder (default $GRAFT_DATA, else Debian's)",
       path_into(&TrainOptions::data, "a folder")},
      {"--save-every", "N", "also checkpoint every N steps (default 0: each epoch only)",
       count_into(&TrainOptions::save_every, 0)},
      {"--keep-last", "K", "keep the K newest checkpoint-step files (default 3)",
       count_into(&TrainOptions::keep_last, 1)},
      {"--max-steps", "N", "stop resumably after N steps in all (default 0: no limit)",
       count_into(&TrainOptions::max_steps, 0)},
      {"--tensorboard", "DIR", "also write TensorBoard event files into DIR",
       path_into(&TrainOptions::tensorboard, "a folder")},
      {"--export-images", "K", "write K test images as PGM files into OUT/images",
       count_into(&TrainOptions::export_images, 0)},
      {"--distributed", nullptr,
       "train data-parallel with every process mpirun started (docs/distributed.md)",
       [](TrainOptions& o, const std::string&, const std::string&) { o.distributed = true; }},
      {"--help", nullptr, "print this help and exit",
       [](TrainOptions& o, const std::string&, const std::string&) { o.help = true; }},
  };
  return kOptions;
}

}  // namespace

TrainOptions parse_train_args(const std::vector<std::string>& args) {
  TrainOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      options.help = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      detail::fail("graft-train: unexpected argument '", arg,
                   "'; options start with -- (see graft-train --help)");
    }
    // "--name=value" or "--name value".
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const Option* option = nullptr;
    for (const Option& candidate : option_table())
      if (name == candidate.name) option = &candidate;
    if (option == nullptr) {
      detail::fail("graft-train: unknown option '", name, "' (see graft-train --help)");
    }
    std::string value;
    if (option->value == nullptr) {
      if (equals != std::string::npos) usage_error(name, "takes no value");
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else {
      if (i + 1 == args.size()) usage_error(name, std::string("expects a value: ") + option->value);
      value = args[++i];
    }
    option->store(options, name, value);
  }
  return options;
}

std::string train_usage() {
  std::string text =
      "usage: graft-train [options]\n"
      "Trains an MLP or a small CNN on Fashion-MNIST and writes, into the output folder,\n"
      "metrics.csv, checkpoint.safetensors, best.safetensors and curves.svg after each\n"
      "epoch, steps.csv (a row per optimizer step), and test.csv (the test set, measured\n"
      "once) at the end.\n\noptions:\n";
  for (const Option& o : option_table()) {
    std::string left = std::string("  ") + o.name + (o.value ? std::string(" ") + o.value : "");
    left.resize(std::max<size_t>(left.size() + 2, 30), ' ');
    text += left + o.help + "\n";
  }
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
