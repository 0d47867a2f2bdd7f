// graft-train: trains an MLP or a small CNN on Fashion-MNIST, graft's main job.
//
//   graft-train                                  # the CNN, 5 epochs: 3+ minutes on 2 cores
//   graft-train --model mlp --out runs/mlp       # the MLP, 5 epochs: ~10 seconds
//   graft-train --resume runs/mlp/checkpoint.safetensors --epochs 8
//   graft-train --epochs 0 --export-images 4     # only write test images for graft-predict
//   graft-train --amp bf16                       # mixed precision (autocast), float32 weights
//
// The last --val-fraction of the training images (default 0.1) is held out. Each epoch
// trains on the rest, shuffled (a progress bar on stderr), then measures the validation
// split under NoGradGuard with the model in eval mode, and writes into the output folder:
// metrics.csv (one row per epoch), steps.csv (one row per optimizer step),
// checkpoint.safetensors (model + optimizer + where the run is; --resume continues from
// it), best.safetensors (the checkpoint of the best validation accuracy so far) and
// curves.svg (loss and accuracy per epoch). The test set is measured once, after the last
// epoch, into test.csv: choosing by validation and reporting the test set once keeps the
// test figure an unbiased estimate.
//
// The same seed gives the same numbers on the same machine: the seed drives graft's random
// stream (the initialisation) and the DataLoader's shuffle, whose epoch e order depends
// only on (seed, e), so a resumed run sees the batches the uninterrupted one would.
// Ctrl-C or SIGTERM stops the run after the current step with a resumable checkpoint,
// and --save-every N writes one every N steps; a run resumed mid-epoch continues with
// exactly the batches, lrs and optimizer state the uninterrupted run would have had.
// With --distributed under mpirun, N processes train one model data-parallel (each its shard
// of every global batch, gradients averaged by DistributedDataParallel); rank 0 alone
// prints and writes, and a Ctrl-C reaching any rank stops every rank at the same step.
// docs/training.md describes the files and the figures measured; docs/distributed.md the
// distributed run.
#include <graft/graft.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "evaluate.h"
#include "metrics.h"
#include "models.h"
#include "pgm.h"
#include "progress.h"
#include "run_setup.h"
#include "schedule.h"
#include "step_log.h"
#include "stop_signal.h"
#include "tensorboard.h"
#include "train_options.h"

namespace g = graft;
namespace dist = graft::distributed;
namespace ex = graft::examples;
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Which process of the run this is: rank 0 of 1 unless --distributed joins mpirun's world.
struct World {
  int rank = 0;
  int size = 1;
  bool lead() const { return rank == 0; }  // the one that prints and writes files
};

// The run's settings once the options, the defaults and the checkpoint are reconciled:
// `info` holds every setting that changes the run's numbers, and where the run is.
struct RunConfig {
  ex::CheckpointInfo info;
  g::Device device = g::Device::cpu();
  fs::path out;
  std::optional<ex::Checkpoint> resume;
};

// An option of graft-train against the checkpoint being resumed (run_setup.h).
template <class T>
T reconcile(const std::optional<T>& given, const T& saved, const T& fallback, bool resuming,
            const char* option) {
  return ex::reconcile("graft-train", given, saved, fallback, resuming, option);
}

RunConfig configure(const ex::TrainOptions& options) {
  RunConfig config;
  if (!options.resume.empty()) config.resume = ex::load_checkpoint(options.resume);
  const bool resuming = config.resume.has_value();
  const ex::CheckpointInfo saved = resuming ? config.resume->info : ex::CheckpointInfo{};
  ex::CheckpointInfo& info = config.info;
  info = saved;  // a new run: epoch 0, step 0
  if (!resuming) {
    info.normalize_mean = g::data::Normalize::kFashionMnistMean;
    info.normalize_std = g::data::Normalize::kFashionMnistStd;
  }
  using Options = ex::TrainOptions;
  info.model = reconcile<std::string>(options.model, saved.model, Options::kDefaultModel, resuming,
                                      "--model");
  info.optimizer =
      reconcile<std::string>(options.optimizer, saved.optimizer, "adam", resuming, "--optimizer");
  info.seed = reconcile<uint64_t>(options.seed, saved.seed, 0, resuming, "--seed");
  info.batch_size =
      reconcile<int64_t>(options.batch_size, saved.batch_size, 64, resuming, "--batch-size");
  info.limit = reconcile<int64_t>(options.limit, saved.limit, 0, resuming, "--limit");
  info.val_fraction = reconcile<double>(options.val_fraction, saved.val_fraction,
                                        Options::kDefaultValFraction, resuming, "--val-fraction");
  info.lr =
      reconcile<double>(options.lr, saved.lr, ex::default_lr(info.optimizer), resuming, "--lr");
  info.lr_schedule = reconcile<std::string>(options.lr_schedule, saved.lr_schedule,
                                            Options::kDefaultSchedule, resuming, "--lr-schedule");
  info.warmup = reconcile<int64_t>(options.warmup, saved.warmup, 0, resuming, "--warmup");
  info.weight_decay =
      reconcile<double>(options.weight_decay, saved.weight_decay,
                        ex::default_weight_decay(info.optimizer), resuming, "--weight-decay");
  info.clip_grad_norm = reconcile<double>(options.clip_grad_norm, saved.clip_grad_norm, 0, resuming,
                                          "--clip-grad-norm");
  info.amp = reconcile<std::string>(options.amp, saved.amp, "none", resuming, "--amp");
  // A schedule with an end is drawn over the run's epochs: asking for more (or fewer) would
  // change the lr of the steps already made.
  info.schedule_epochs = ex::schedule_has_end(info.lr_schedule) ? options.epochs : 0;
  if (resuming && info.schedule_epochs != saved.schedule_epochs) {
    g::detail::fail("graft-train: --epochs ", options.epochs, " but the checkpoint's ",
                    info.lr_schedule, " schedule ends after epoch ", saved.schedule_epochs,
                    "; resume with --epochs ", saved.schedule_epochs);
  }

  config.device = ex::choose_device("graft-train", options.device);
  config.out = ex::choose_out_folder(options.out, options.resume, "");
  return config;
}

std::unique_ptr<g::optim::Optimizer> make_optimizer(const std::string& name,
                                                    std::vector<g::Tensor> params, double lr,
                                                    double weight_decay) {
  if (name == "sgd")
    return std::make_unique<g::optim::SGD>(std::move(params), lr, 0.9, 0.0, weight_decay);
  if (name == "adamw")
    return std::make_unique<g::optim::AdamW>(std::move(params), lr, weight_decay);
  return std::make_unique<g::optim::Adam>(std::move(params), lr, weight_decay);
}

// "Ankle boot" -> "ankle-boot", for file names.
std::string slug(const std::string& name) {
  std::string out;
  for (const char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '-';
  return out;
}

// Writes the first `count` test images, un-normalised back to uint8, as
// OUT/images/<index>-<label>-<class>.pgm.
void export_images(const fs::path& root, const fs::path& folder, int64_t count) {
  const g::data::FashionMNIST raw(root, g::data::Split::Test);
  GRAFT_CHECK(count <= raw.size(), "graft-train: --export-images ", count, " but the test set has ",
              raw.size(), " images");
  fs::create_directories(folder);
  // The dataset holds uint8 / 255 as float32: * 255, rounded (+ 0.5, then the conversion
  // truncates), gives the bytes back.
  const g::Tensor bytes = (raw.x().narrow(0, 0, count) * 255 + 0.5).to(g::kUInt8).contiguous();
  const auto* pixels = bytes.data_ptr<uint8_t>();
  for (int64_t i = 0; i < count; ++i) {
    const auto label = raw.y().select(0, i).item<int64_t>();
    char name[32];
    std::snprintf(name, sizeof name, "%05lld-%lld-", static_cast<long long>(i),
                  static_cast<long long>(label));
    const fs::path path =
        folder / (name + slug(g::data::FashionMNIST::class_names()[label]) + ".pgm");
    ex::write_pgm(path, {28, 28, std::vector<uint8_t>(pixels + i * 784, pixels + (i + 1) * 784)});
    std::cout << "wrote " << path.string() << "\n";
  }
}

// Writes OUT/checkpoint-step<step>.safetensors, makes OUT/checkpoint.safetensors the same
// file, and prunes the older step files (--save-every, --keep-last).
void save_step_checkpoint(const fs::path& out, const ex::Checkpoint& checkpoint,
                          int64_t keep_last) {
  const fs::path step_file = out / ex::step_checkpoint_name(checkpoint.info.step);
  ex::save_checkpoint(step_file, checkpoint);
  // The latest checkpoint becomes a second name of the same file rather than a second write
  // (half the cost), swapped in by a rename so that it stays atomic.
  const fs::path latest = out / "checkpoint.safetensors", link = out / "checkpoint.link";
  fs::remove(link);
  fs::create_hard_link(step_file, link);
  fs::rename(link, latest);
  ex::prune_step_checkpoints(out, keep_last);
}

// The message of a run stopped before its last epoch, and its exit code: 128 + the signal
// (this rank's, or another's in a distributed run), as a shell reports a process the signal
// ended; 0 for --max-steps.
int stop_exit_code(int signal) { return signal == 0 ? 0 : 128 + signal; }

int report_stop(const ex::CheckpointInfo& info, int64_t steps_per_epoch, const fs::path& latest,
                int64_t epochs, int signal) {
  const char* cause = signal == 0 ? "--max-steps" : signal == SIGINT ? "SIGINT" : "SIGTERM";
  std::cout << "graft-train: stopped by " << cause << " after step " << info.step << " (epoch "
            << info.epoch + 1 << ", batch " << info.step_in_epoch << "/" << steps_per_epoch << "); "
            << latest.string() << " continues it: graft-train --resume " << latest.string()
            << " --epochs " << epochs << std::endl;
  return stop_exit_code(signal);
}

int run(const ex::TrainOptions& options) {
  if (options.help) {
    std::cout << ex::train_usage();
    return 0;
  }
  ex::install_stop_handlers();  // first: a Ctrl-C while the data loads stops cleanly too
  World world;
  if (options.distributed) {
    dist::init_process_group();  // before --threads: it sets each rank's share of the cores
    world = {dist::get_rank(), dist::get_world_size()};
  }
  if (options.threads > 0) g::set_num_threads(static_cast<int>(options.threads));
  RunConfig config = configure(options);
  ex::CheckpointInfo& info = config.info;
  GRAFT_CHECK(info.batch_size % world.size == 0, "graft-train: the batch of ", info.batch_size,
              " (--batch-size is the global batch) does not split evenly across ", world.size,
              " processes; use a multiple of ", world.size);
  if (config.resume && info.world_size != world.size && world.lead())
    std::cout << "graft-train: resuming with " << world.size << " processes a run made with "
              << info.world_size << ": the same global batch, but not bit for bit the run an "
              << "uninterrupted " << info.world_size << "-process run would have made\n";
  info.world_size = world.size;
  const fs::path root =
      options.data.empty() ? g::data::FashionMNIST::default_root() : fs::path(options.data);
  if (options.export_images > 0 && world.lead())
    export_images(root, config.out / "images", options.export_images);
  if (options.epochs <= info.epoch) {
    if (config.resume && world.lead())
      std::cout << "graft-train: the checkpoint is at epoch " << info.epoch << " already; ask "
                << "for more with --epochs\n";
    return 0;
  }

  const auto run_start = std::chrono::steady_clock::now();
  g::manual_seed(info.seed);
  const std::shared_ptr<g::nn::Sequential> model = ex::make_model(info.model);
  if (config.resume) model->load_state_dict(config.resume->model);
  model->to(config.device);
  const std::vector<g::Tensor> params = model->parameters();
  const auto optimizer = make_optimizer(info.optimizer, params, info.lr, info.weight_decay);
  optimizer->set_grad_norm_tracking(info.clip_grad_norm == 0);
  // Every rank starts from rank 0's parameters; backward() averages the gradients.
  std::optional<g::nn::parallel::DistributedDataParallel> ddp;
  if (options.distributed) ddp.emplace(*model);
  // --amp: the forward and the loss under autocast. float16 also scales the loss, against
  // gradients underflowing; without --amp fp16 the scaler is disabled and its calls are the
  // plain backward() and step().
  const std::optional<g::DType> amp = ex::amp_dtype(info.amp);
  g::amp::GradScaler scaler(65536.0, 2.0, 0.5, 2000, /*enabled=*/info.amp == "fp16");

  const g::data::Normalize normalize(info.normalize_mean, info.normalize_std);
  const g::data::FashionMNIST full_train(root, g::data::Split::Train, normalize);
  const g::data::FashionMNIST test(root, g::data::Split::Test, normalize);
  const int64_t n_images =
      info.limit > 0 ? std::min(info.limit, full_train.size()) : full_train.size();
  // The validation split is the last images, not a seeded sample: it stays the same when
  // the seed changes, so runs with different seeds are compared on the same images (the
  // file's order is already shuffled across the classes).
  const auto n_val = static_cast<int64_t>(info.val_fraction * static_cast<double>(n_images));
  const int64_t n_train = n_images - n_val;
  GRAFT_CHECK(n_train > 0, "graft-train: --val-fraction leaves no training images out of ",
              n_images, "; lower it or raise --limit");
  const g::data::TensorDataset train(full_train.x().narrow(0, 0, n_train),
                                     full_train.y().narrow(0, 0, n_train));
  const g::data::TensorDataset val(full_train.x().narrow(0, n_train, n_val),
                                   full_train.y().narrow(0, n_train, n_val));
  // Distributed, each rank takes its shard of the same (seed, epoch) shuffle in batches of
  // its share of the global batch; in a world of one that is the plain shuffled loader.
  // Batches are built on a background thread only for a GPU, while the loop waits for the
  // device: on the CPU graft's threads already take every core, and the loader's thread
  // competing with them made an MLP epoch about 3% slower (2-core Xeon, 2026-12-05: medians
  // of ten runs each, 545 against 530 ms).
  const bool prefetch = config.device.is_cuda();
  g::data::DataLoader loader =
      options.distributed
          ? g::data::DataLoader(
                train, info.batch_size / world.size,
                g::data::DistributedSampler(
                    n_train, {.num_replicas = world.size, .rank = world.rank, .seed = info.seed}),
                {.prefetch = prefetch})
          : g::data::DataLoader(train, info.batch_size, /*shuffle=*/true,
                                {.seed = info.seed, .prefetch = prefetch});
  loader.set_epoch(info.epoch);

  // The schedule is made before the optimizer state is loaded, so that its base lr is --lr
  // and not the lr the checkpoint's step had reached; set_last_step() then puts it there.
  const std::unique_ptr<g::optim::LRScheduler> schedule = ex::make_schedule(
      info.lr_schedule, *optimizer, options.epochs * loader.size(), loader.size(), info.warmup);
  if (config.resume) {
    optimizer->load_state_dict(config.resume->optimizer);
    if (scaler.is_enabled()) scaler.load_state_dict(config.resume->scaler);
    if (schedule) schedule->set_last_step(info.step);
  }

  // A resumed run keeps the rows up to its checkpoint and adds to their wall time.
  const fs::path metrics_path = config.out / "metrics.csv";
  std::vector<ex::EpochMetrics> rows;
  if (config.resume) {
    for (const ex::EpochMetrics& m : ex::read_metrics_csv(metrics_path))
      if (m.epoch <= info.epoch) rows.push_back(m);
  }
  const double wall_offset = rows.empty() ? 0 : rows.back().wall_time_s;
  double best_accuracy = -1;
  for (const ex::EpochMetrics& m : rows) best_accuracy = std::max(best_accuracy, m.val_accuracy);
  // The files are rank 0's to write.
  std::optional<ex::StepLog> step_log;
  if (world.lead()) step_log.emplace(config.out / "steps.csv", info.step);
  std::optional<ex::TensorBoardWriter> board;
  if (!options.tensorboard.empty() && world.lead()) board.emplace(options.tensorboard);
  const fs::path latest = config.out / "checkpoint.safetensors";
  auto checkpoint = [&] {
    return ex::Checkpoint{info, model->state_dict(), optimizer->state_dict(),
                          scaler.is_enabled() ? scaler.state_dict() : g::StateDict{}};
  };

  if (world.lead()) {
    std::cout << ex::model_summary(info.model, *model) << "\n";
    std::cout << "graft-train: " << info.model << ", " << info.optimizer << " (lr " << info.lr
              << ", " << info.lr_schedule << " schedule, weight decay " << info.weight_decay
              << "), batch " << info.batch_size << ", " << n_train << " training images, " << n_val
              << " validation images, " << config.device
              << (amp ? ", autocast to " + std::string(g::dtype_name(*amp)) : "") << ", seed "
              << info.seed << ", output " << config.out.string()
              << (config.resume ? ", resuming after step " + std::to_string(info.step) : "")
              << (options.distributed ? ", " + std::to_string(world.size) + " processes" : "")
              << std::endl;
  }
  model->train();
  bool stopping = false;
  int signal = 0;  // the stop signal, once one has reached this rank or another
  for (int64_t epoch = info.epoch + 1; epoch <= options.epochs && !stopping; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    std::optional<ex::ProgressBar> bar;
    if (world.lead())
      bar.emplace(std::cerr, ex::stderr_is_terminal(),
                  "epoch " + std::to_string(epoch) + "/" + std::to_string(options.epochs),
                  loader.size());
    // A run stopped mid-epoch skips the batches it made (the order is (seed, epoch)'s, so
    // the rest are the ones the uninterrupted run saw) and carries on with their loss sum.
    const int64_t skip = info.step_in_epoch;
    double loss_sum = info.epoch_loss_sum;
    int64_t seen = skip * info.batch_size, batch = 0;
    auto step_start = std::chrono::steady_clock::now();
    for (const auto& [x, y] : loader) {
      if (batch++ < skip) {
        step_start = std::chrono::steady_clock::now();
        continue;
      }
      optimizer->zero_grad();
      g::Tensor loss;
      {
        const g::AutocastGuard autocast(config.device.type(), amp, amp.has_value());
        const g::Tensor input = x.to(config.device);
        const g::Tensor logits = ddp ? (*ddp)(input) : (*model)(input);
        loss = g::nn::functional::cross_entropy(logits, y.to(config.device));
      }
      scaler.scale(loss).backward();
      // The gradient norm for the log, before clipping: clipping computes it anyway;
      // without clipping the optimizer sums the gradients' squares in its own pass over
      // them, where a norm here would read them all a second time (about 6% of an MLP step).
      g::Tensor norm;
      if (info.clip_grad_norm > 0) {
        scaler.unscale_(*optimizer);  // clip the true gradients, not the scaled ones
        norm = g::optim::get_total_norm(g::optim::grads(params));
        g::optim::clip_grads_with_norm_(params, info.clip_grad_norm, norm);
      }
      const double step_lr = optimizer->lr(0);
      // False when the scaler skipped the step: a float16 gradient overflowed (the log
      // shows its norm as inf), and update() backs the scale off.
      const bool stepped = scaler.step(*optimizer);
      scaler.update();
      const double grad_norm = norm.defined() ? norm.item<double>()
                               : stepped      ? optimizer->last_grad_norm().item<double>()
                                              : std::numeric_limits<double>::infinity();
      if (schedule) schedule->step();
      double batch_loss = loss.item<double>();
      auto batch_images = static_cast<double>(x.size(0));
      signal = ex::stop_signal();
      if (options.distributed) {
        // One small collective a step: every rank's (loss sum, images, signal), for the
        // loss over all the step's images and so that a signal reaching any rank stops
        // every rank at this step.
        const g::Tensor mine = g::tensor(
            {batch_loss * batch_images, batch_images, static_cast<double>(signal)}, g::kFloat64);
        const g::Tensor all = g::empty({3 * world.size}, g::kFloat64);
        dist::all_gather_into_tensor(all, mine);
        const std::vector<double> ranks = all.to_vector<double>();
        double loss_total = 0;
        batch_images = 0;
        for (int r = 0; r < world.size; ++r) {
          loss_total += ranks[3 * r];
          batch_images += ranks[3 * r + 1];
          signal = std::max(signal, static_cast<int>(ranks[3 * r + 2]));
        }
        batch_loss = loss_total / batch_images;
      }
      loss_sum += batch_loss * batch_images;
      seen += static_cast<int64_t>(batch_images);
      ++info.step;
      info.step_in_epoch = batch;
      info.epoch_loss_sum = loss_sum;
      const double step_s = seconds_since(step_start);
      step_start = std::chrono::steady_clock::now();
      if (step_log)
        step_log->append({info.step, step_lr, batch_loss, grad_norm, batch_images / step_s});
      if (board) {
        board->add_scalar("train/loss", info.step, batch_loss);
        board->add_scalar("train/lr", info.step, step_lr);
        board->add_scalar("train/grad_norm", info.step, grad_norm);
      }
      if (bar) bar->update(batch, seen, loss_sum / static_cast<double>(seen));
      if (options.save_every > 0 && info.step % options.save_every == 0 && world.lead()) {
        save_step_checkpoint(config.out, checkpoint(), options.keep_last);
      }
      stopping = signal != 0 || (options.max_steps > 0 && info.step >= options.max_steps);
      if (stopping) break;
    }
    if (bar) bar->finish();
    if (step_log) step_log->flush();
    if (board) board->flush();
    if (info.step_in_epoch < loader.size()) break;  // stopped mid-epoch

    const double train_s = seconds_since(epoch_start);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    info.epoch = epoch;
    info.step_in_epoch = 0;
    info.epoch_loss_sum = 0;
    // Rank 0 measures and writes; the others go on to the next epoch, where their first
    // all-reduce waits for it.
    if (!world.lead()) continue;
    const ex::EvalResult eval =
        n_val > 0 ? ex::evaluate(*model, val, config.device, amp) : ex::EvalResult{nan, nan};
    rows.push_back({epoch, info.step, wall_offset + seconds_since(run_start),
                    loss_sum / static_cast<double>(seen), eval.loss, eval.accuracy,
                    static_cast<double>(seen - skip * info.batch_size) / train_s});
    ex::write_metrics_csv(metrics_path, rows);
    const ex::Checkpoint c = checkpoint();
    ex::save_checkpoint(latest, c);
    if (eval.accuracy > best_accuracy) {  // never true for NaN: no validation, no best
      best_accuracy = eval.accuracy;
      ex::save_checkpoint(config.out / "best.safetensors", c);
    }
    ex::write_curves_svg(config.out / "curves.svg", rows);
    if (board) {
      board->add_scalar("epoch/train_loss", info.step, rows.back().train_loss);
      board->add_scalar("epoch/val_loss", info.step, eval.loss);
      board->add_scalar("epoch/val_accuracy", info.step, eval.accuracy);
      board->flush();
    }
    std::printf(
        "epoch %lld/%lld: train loss %.4f, val loss %.4f, val accuracy %.2f%%, "
        "%.1f s, %.0f images/s\n",
        static_cast<long long>(epoch), static_cast<long long>(options.epochs),
        rows.back().train_loss, eval.loss, 100 * eval.accuracy, train_s, rows.back().images_per_s);
    std::fflush(stdout);
  }

  if (info.epoch < options.epochs) {  // stopped early: a signal or --max-steps
    if (!world.lead()) return stop_exit_code(signal);
    if (info.step_in_epoch > 0) ex::save_checkpoint(latest, checkpoint());
    return report_stop(info, loader.size(), latest, options.epochs, signal);
  }
  if (!world.lead()) return 0;
  const ex::EvalResult tested = ex::evaluate(*model, test, config.device, amp);
  ex::write_test_csv(config.out / "test.csv", info.step, tested.loss, tested.accuracy);
  if (board) {
    board->add_scalar("test/loss", info.step, tested.loss);
    board->add_scalar("test/accuracy", info.step, tested.accuracy);
  }
  std::printf("test (once, after the last epoch): loss %.4f, accuracy %.2f%%\n", tested.loss,
              100 * tested.accuracy);
  std::cout << "wrote " << metrics_path.string() << ", " << (config.out / "steps.csv").string()
            << ", " << latest.string() << ", " << (config.out / "curves.svg").string() << ", "
            << (config.out / "test.csv").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(ex::parse_train_args(std::vector<std::string>(argv + 1, argv + argc)));
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    // A failed rank of a distributed run leaves at once, skipping the exit-time farewell
    // to the other ranks (which would wait for them): mpirun sees the failure and ends
    // them, instead of their waiting out the collectives' timeout.
    if (dist::is_initialized()) {
      std::fflush(nullptr);
      std::_Exit(1);
    }
    return 1;
  }
}
