// graft-gpt: trains a character-level GPT, nanoGPT's model and recipe (gpt_model.h), on a
// text, and samples from it. Issue 14's program; docs/gpt.md describes the run and its
// figures.
//
//   graft-gpt                                      # the cpu config on Debian's fortunes
//   graft-gpt --data input.txt --out runs/shakespeare
//   graft-gpt --config gpu --device cuda
//   graft-gpt --resume runs/shakespeare/checkpoint.safetensors
//   graft-gpt sample --checkpoint runs/shakespeare/checkpoint.safetensors --prompt "ROMEO:"
//
// Training: each iteration draws --grad-accum batches of random windows of the training
// split (the first 90% of the text), accumulates their gradients, clips the global norm and
// makes one AdamW step at the iteration's lr (linear warmup, then a cosine down to
// --min-lr at the last iteration). Every --eval-interval iterations, and at the end, both
// splits' losses are measured on --eval-iters batches each (eval mode, no gradients) into
// OUT/metrics.csv and OUT/loss.svg, and OUT/checkpoint.safetensors is written.
//
// Randomness: iteration i draws its batches and dropout masks from the stream of
// (seed, i), and its evaluation from another, and the kernels run deterministically, so a
// resumed run makes exactly the iterations the uninterrupted run would have. Ctrl-C or SIGTERM
// stops after the current iteration with a checkpoint.
#include <graft/graft.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "char_tokenizer.h"
#include "gpt_checkpoint.h"
#include "gpt_data.h"
#include "gpt_metrics.h"
#include "gpt_model.h"
#include "gpt_options.h"
#include "gpt_sample.h"
#include "progress.h"
#include "run_setup.h"
#include "stop_signal.h"

namespace g = graft;
namespace ex = graft::examples;
namespace fs = std::filesystem;

namespace {

constexpr const char* kProgram = "graft-gpt";
constexpr double kTrainFraction = 0.9;

// The seed of one iteration's random stream (purpose 0: training, 1: evaluation): the
// splitmix64 finaliser over the three, so nearby iterations get unrelated streams.
uint64_t stream_seed(uint64_t seed, int64_t iter, uint64_t purpose) {
  uint64_t z = seed ^ (static_cast<uint64_t>(iter) * 0x9E3779B97F4A7C15ull) ^ (purpose << 62);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The model's loss on a batch: with --amp bf16 under autocast, whose guard ends before the
// backward, as PyTorch recommends (the backward of each op runs in its forward's dtypes).
g::Tensor batch_loss(ex::Gpt& model, const ex::Batch& batch, const std::string& amp) {
  const std::optional<g::DType> low = ex::amp_dtype(amp);
  const g::AutocastGuard autocast(batch.x.device().type(), low, low.has_value());
  return ex::next_token_loss(model, batch.x, batch.y);
}

// nanoGPT's estimate_loss for one split: the mean loss of `batches` random batches.
double estimate_loss(ex::Gpt& model, const std::vector<int64_t>& tokens, int64_t batches,
                     int64_t batch_size, const std::string& amp, g::Device device) {
  double sum = 0;
  for (int64_t i = 0; i < batches; ++i) {
    const ex::Batch batch = ex::sample_batch(tokens, batch_size, model.config.block_size, device);
    sum += batch_loss(model, batch, amp).item<double>();
  }
  return sum / static_cast<double>(batches);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The run's settings: the options, the defaults of the config, and the checkpoint's
// (an option given when resuming must agree with it).
ex::GptRun configure(const ex::GptTrainOptions& o, const std::optional<ex::GptCheckpoint>& resume) {
  const bool resuming = resume.has_value();
  const ex::GptRun saved = resuming ? resume->run : ex::GptRun{};
  ex::GptRun run = saved;
  const auto settle = [&](const auto& given, const auto& saved_value, const auto& fallback,
                          const char* option) {
    return ex::reconcile<std::decay_t<decltype(saved_value)>>(kProgram, given, saved_value,
                                                              fallback, resuming, option);
  };
  run.config = settle(o.config, saved.config, std::string("cpu"), "--config");
  const ex::GptRecipe recipe = ex::gpt_recipe(run.config);
  run.corpus = settle(o.data, saved.corpus, std::string(), "--data");
  run.seed = settle(o.seed, saved.seed, uint64_t{0}, "--seed");
  run.iters = settle(o.iters, saved.iters, recipe.iters, "--iters");
  run.batch_size = settle(o.batch_size, saved.batch_size, recipe.batch_size, "--batch-size");
  run.grad_accum = settle(o.grad_accum, saved.grad_accum, int64_t{1}, "--grad-accum");
  run.lr = settle(o.lr, saved.lr, 1e-3, "--lr");
  run.min_lr = settle(o.min_lr, saved.min_lr, 1e-4, "--min-lr");
  run.warmup = settle(o.warmup, saved.warmup, int64_t{100}, "--warmup");
  run.weight_decay = settle(o.weight_decay, saved.weight_decay, 0.1, "--weight-decay");
  run.clip_grad_norm = settle(o.clip_grad_norm, saved.clip_grad_norm, 1.0, "--clip-grad-norm");
  run.eval_interval = settle(o.eval_interval, saved.eval_interval, int64_t{250}, "--eval-interval");
  run.eval_iters = settle(o.eval_iters, saved.eval_iters, recipe.eval_iters, "--eval-iters");
  run.amp = settle(o.amp, saved.amp, std::string("none"), "--amp");
  return run;
}

int train(const ex::GptTrainOptions& options) {
  ex::install_stop_handlers();
  if (options.threads > 0) g::set_num_threads(static_cast<int>(options.threads));
  // The same bits whatever the thread count, which the default changes with the machine's
  // load from one moment to the next: a resumed run is then the uninterrupted one exactly.
  // (For this model it costs nothing measurable: its GEMMs are tiled either way.)
  g::use_deterministic_algorithms(true);
  std::optional<ex::GptCheckpoint> resume;
  if (!options.resume.empty()) resume = ex::load_gpt_checkpoint(options.resume);
  ex::GptRun run = configure(options, resume);
  const g::Device device = ex::choose_device(kProgram, options.device);
  const fs::path out = ex::choose_out_folder(options.out, options.resume, "gpt-");

  const ex::Corpus corpus = ex::load_corpus(run.corpus);
  const ex::CharTokenizer tokenizer = ex::CharTokenizer::from_text(corpus.text);
  if (resume) {
    GRAFT_CHECK(tokenizer.vocabulary() == run.vocabulary, kProgram, ": the characters of ",
                corpus.source, " (", tokenizer.size(),
                " distinct) are not the checkpoint's vocabulary (", run.model.vocab_size,
                "): the text changed since the run started");
    GRAFT_CHECK(run.model == ex::gpt_config(run.config, tokenizer.size()), kProgram,
                ": the checkpoint's model (", run.model.n_layer, " layers, width ",
                run.model.n_embd, ", context ", run.model.block_size, ") is not its config '",
                run.config, "'; was it written by another version?");
  } else {
    run.vocabulary = tokenizer.vocabulary();
    run.model = ex::gpt_config(run.config, tokenizer.size());
  }
  const ex::TokenSplits splits = ex::split_tokens(tokenizer.encode(corpus.text, corpus.source),
                                                  kTrainFraction, run.model.block_size);

  g::manual_seed(run.seed);
  ex::Gpt model(run.model);
  if (resume) model.load_state_dict(resume->model);
  model.to(device);
  const auto optimizer = ex::make_gpt_optimizer(model, run.lr, run.weight_decay);
  if (resume) optimizer->load_state_dict(resume->optimizer);
  const std::vector<g::Tensor> params = model.parameters();

  const fs::path metrics_path = out / "metrics.csv";
  std::vector<ex::GptMetrics> rows;
  if (resume)
    for (const ex::GptMetrics& row : ex::read_gpt_metrics_csv(metrics_path))
      if (row.iter <= run.iter) rows.push_back(row);

  std::cout << kProgram << ": config " << run.config << " (" << run.model.n_layer << " layers, "
            << run.model.n_head << " heads, width " << run.model.n_embd << ", context "
            << run.model.block_size << "), " << tokenizer.size() << " characters of vocabulary, "
            << splits.train.size() << " training and " << splits.val.size()
            << " validation tokens of " << corpus.source << ", on " << device.str() << ", into "
            << out.string()
            << (resume ? ", resuming after iteration " + std::to_string(run.iter) : "")
            << std::endl;

  double train_seconds = 0;  // training iterations since the last row
  int64_t train_iters = 0;
  const auto run_start = std::chrono::steady_clock::now();
  const double wall_before = run.wall_time_s;
  const auto checkpoint = [&] {
    run.wall_time_s = wall_before + seconds_since(run_start);
    ex::save_gpt_checkpoint(
        out / "checkpoint.safetensors",
        {.run = run, .model = model.state_dict(), .optimizer = optimizer->state_dict()});
  };
  const auto evaluate = [&] {
    g::NoGradGuard no_grad;
    model.eval();
    g::manual_seed(stream_seed(run.seed, run.iter, 1));
    ex::GptMetrics row{.iter = run.iter};
    row.train_loss =
        estimate_loss(model, splits.train, run.eval_iters, run.batch_size, run.amp, device);
    row.val_loss =
        estimate_loss(model, splits.val, run.eval_iters, run.batch_size, run.amp, device);
    model.train();
    row.lr = run.iter == 0 ? 0 : optimizer->lr(0);
    row.ms_per_iter =
        train_iters > 0 ? 1e3 * train_seconds / static_cast<double>(train_iters) : std::nan("");
    row.wall_time_s = wall_before + seconds_since(run_start);
    rows.push_back(row);
    train_seconds = 0;
    train_iters = 0;
    ex::write_gpt_metrics_csv(metrics_path, rows);
    ex::write_gpt_loss_svg(out / "loss.svg", rows);
    checkpoint();
    std::cout << "iter " << run.iter << ": train loss " << row.train_loss << ", val loss "
              << row.val_loss;
    if (!std::isnan(row.ms_per_iter)) std::cout << ", " << row.ms_per_iter << " ms/iter";
    std::cout << std::endl;
  };

  if (run.iter == 0) evaluate();
  const int64_t tokens_per_iter = run.batch_size * run.grad_accum * run.model.block_size;
  model.train();
  while (run.iter < run.iters) {
    // One segment of iterations up to the next evaluation, under its own progress bar.
    const int64_t first = run.iter;
    const int64_t last = std::min(run.iters, (first / run.eval_interval + 1) * run.eval_interval);
    ex::ProgressBar bar(std::cerr, ex::stderr_is_terminal(),
                        "iters " + std::to_string(first + 1) + "-" + std::to_string(last) + "/" +
                            std::to_string(run.iters),
                        last - first, {}, "tok");
    double loss_sum = 0;
    int signal = 0;
    const auto halted = [&] { return options.max_iters > 0 && run.iter >= options.max_iters; };
    while (run.iter < last && signal == 0 && !halted()) {
      const auto start = std::chrono::steady_clock::now();
      const double lr = ex::gpt_lr(run.iter, run.lr, run.min_lr, run.warmup, run.iters);
      for (size_t group = 0; group < optimizer->param_groups().size(); ++group)
        optimizer->set_lr(group, lr);
      g::manual_seed(stream_seed(run.seed, run.iter, 0));
      optimizer->zero_grad();
      double loss = 0;
      for (int64_t micro = 0; micro < run.grad_accum; ++micro) {
        const ex::Batch batch =
            ex::sample_batch(splits.train, run.batch_size, run.model.block_size, device);
        const g::Tensor micro_loss =
            batch_loss(model, batch, run.amp) / static_cast<double>(run.grad_accum);
        micro_loss.backward();
        loss += micro_loss.item<double>();
      }
      if (run.clip_grad_norm > 0) g::optim::clip_grad_norm_(params, run.clip_grad_norm);
      optimizer->step();
      ++run.iter;
      train_seconds += seconds_since(start);
      ++train_iters;
      loss_sum += loss;
      const int64_t done = run.iter - first;
      bar.update(done, done * tokens_per_iter, loss_sum / static_cast<double>(done));
      signal = ex::stop_signal();
    }
    bar.finish();
    if (signal != 0 || (halted() && run.iter < last)) {
      checkpoint();
      std::cout << kProgram << ": stopped after iteration " << run.iter
                << (signal != 0 ? " by signal " + std::to_string(signal) : " (--max-iters)")
                << "; resume with --resume " << (out / "checkpoint.safetensors").string()
                << std::endl;
      return 0;
    }
    evaluate();
  }
  const double wall = wall_before + seconds_since(run_start);
  std::cout << kProgram << ": " << run.iters << " iterations done in " << wall
            << " s; sample with: graft-gpt sample --checkpoint "
            << (out / "checkpoint.safetensors").string() << std::endl;
  return 0;
}

int sample(const ex::GptSampleOptions& options) {
  const ex::GptCheckpoint checkpoint = ex::load_gpt_checkpoint(options.checkpoint);
  const ex::GptRun& run = checkpoint.run;
  const ex::CharTokenizer tokenizer = ex::CharTokenizer::from_vocabulary(run.vocabulary);
  GRAFT_CHECK(tokenizer.size() == run.model.vocab_size, kProgram, ": ", options.checkpoint,
              " has a vocabulary of ", tokenizer.size(), " characters for a model of ",
              run.model.vocab_size);
  const std::u32string prompt = ex::decode_utf8(options.prompt, "graft-gpt sample: --prompt");
  GRAFT_CHECK(!prompt.empty(), kProgram,
              " sample: --prompt is empty; give at least one character (the default is a "
              "newline)");
  const std::vector<int64_t> context = tokenizer.encode(prompt, "graft-gpt sample: --prompt");

  ex::Gpt model(run.model);
  model.load_state_dict(checkpoint.model);
  model.to(ex::choose_device(kProgram, options.device));
  model.eval();
  g::NoGradGuard no_grad;
  g::manual_seed(options.seed);
  for (int64_t s = 0; s < options.samples; ++s) {
    if (s > 0) std::cout << "\n---------------\n";
    const std::vector<int64_t> text = ex::generate(
        model, context,
        {.tokens = options.tokens, .temperature = options.temperature, .top_k = options.top_k});
    std::cout << tokenizer.decode(text);
  }
  std::cout << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const ex::GptCommand command = ex::parse_gpt_args({argv + 1, argv + argc});
    if (command.train.help || command.sampling.help) {
      std::cout << ex::gpt_usage();
      return 0;
    }
    return command.sample ? sample(command.sampling) : train(command.train);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
