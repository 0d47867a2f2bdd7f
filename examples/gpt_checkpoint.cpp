// graft-gpt's checkpoint files (see gpt_checkpoint.h).
#include "gpt_checkpoint.h"

#include <utility>

#include "graft/core/error.h"
#include "state_file.h"

namespace graft::examples {

void save_gpt_checkpoint(const std::filesystem::path& path, const GptCheckpoint& checkpoint) {
  const GptRun& run = checkpoint.run;
  const GptConfig& m = run.model;
  const auto count = [](int64_t value) { return std::to_string(value); };
  save_state_file(path, {.model = checkpoint.model,
                         .optimizer = checkpoint.optimizer,
                         .metadata = {{"program", "graft-gpt"},
                                      {"config", run.config},
                                      {"vocab_size", count(m.vocab_size)},
                                      {"block_size", count(m.block_size)},
                                      {"n_layer", count(m.n_layer)},
                                      {"n_head", count(m.n_head)},
                                      {"n_embd", count(m.n_embd)},
                                      {"dropout", to_text(m.dropout)},
                                      {"bias", m.bias ? "1" : "0"},
                                      {"vocabulary", run.vocabulary},
                                      {"corpus", run.corpus},
                                      {"iter", count(run.iter)},
                                      {"wall_time_s", to_text(run.wall_time_s)},
                                      {"seed", std::to_string(run.seed)},
                                      {"iters", count(run.iters)},
                                      {"batch_size", count(run.batch_size)},
                                      {"grad_accum", count(run.grad_accum)},
                                      {"lr", to_text(run.lr)},
                                      {"min_lr", to_text(run.min_lr)},
                                      {"warmup", count(run.warmup)},
                                      {"weight_decay", to_text(run.weight_decay)},
                                      {"clip_grad_norm", to_text(run.clip_grad_norm)},
                                      {"eval_interval", count(run.eval_interval)},
                                      {"eval_iters", count(run.eval_iters)}}});
}

GptCheckpoint load_gpt_checkpoint(const std::filesystem::path& path) {
  StateFile file = load_state_file(path, "graft-gpt");
  const MetadataReader metadata(file.metadata, path, "graft-gpt");
  GRAFT_CHECK(metadata.text("program") == "graft-gpt", "load_checkpoint(): ", path,
              " was written by ", metadata.text("program"), ", not graft-gpt");
  GptCheckpoint checkpoint{
      .run = {}, .model = std::move(file.model), .optimizer = std::move(file.optimizer)};
  GptRun& run = checkpoint.run;
  GptConfig& m = run.model;
  run.config = metadata.text("config");
  m.vocab_size = metadata.number<int64_t>("vocab_size");
  m.block_size = metadata.number<int64_t>("block_size");
  m.n_layer = metadata.number<int64_t>("n_layer");
  m.n_head = metadata.number<int64_t>("n_head");
  m.n_embd = metadata.number<int64_t>("n_embd");
  m.dropout = metadata.number<double>("dropout");
  m.bias = metadata.number<int>("bias") != 0;
  run.vocabulary = metadata.text("vocabulary");
  run.corpus = metadata.text("corpus");
  run.iter = metadata.number<int64_t>("iter");
  run.wall_time_s = metadata.number<double>("wall_time_s");
  run.seed = metadata.number<uint64_t>("seed");
  run.iters = metadata.number<int64_t>("iters");
  run.batch_size = metadata.number<int64_t>("batch_size");
  run.grad_accum = metadata.number<int64_t>("grad_accum");
  run.lr = metadata.number<double>("lr");
  run.min_lr = metadata.number<double>("min_lr");
  run.warmup = metadata.number<int64_t>("warmup");
  run.weight_decay = metadata.number<double>("weight_decay");
  run.clip_grad_norm = metadata.number<double>("clip_grad_norm");
  run.eval_interval = metadata.number<int64_t>("eval_interval");
  run.eval_iters = metadata.number<int64_t>("eval_iters");
  return checkpoint;
}

}  // namespace graft::examples
