// graft-gpt's checkpoint files (see gpt_checkpoint.h): state_file.h's layout, the run's
// settings and the model's shape as metadata through one table each.
#include "gpt_checkpoint.h"

#include <utility>
#include <vector>

#include "graft/core/error.h"
#include "state_file.h"

namespace graft::examples {
namespace {

const std::vector<MetadataField<GptConfig>>& model_fields() {
  using C = GptConfig;
  static const std::vector<MetadataField<C>> kFields = {
      {"vocab_size", &C::vocab_size},
      {"block_size", &C::block_size},
      {"n_layer", &C::n_layer},
      {"n_head", &C::n_head},
      {"n_embd", &C::n_embd},
      {"dropout", &C::dropout},
      {"bias", &C::bias},
  };
  return kFields;
}

const std::vector<MetadataField<GptRun>>& run_fields() {
  using R = GptRun;
  static const std::vector<MetadataField<R>> kFields = {
      {"config", &R::config},
      {"vocabulary", &R::vocabulary},
      {"corpus", &R::corpus},
      {"iter", &R::iter},
      {"wall_time_s", &R::wall_time_s},
      {"seed", &R::seed},
      {"iters", &R::iters},
      {"batch_size", &R::batch_size},
      {"grad_accum", &R::grad_accum},
      {"lr", &R::lr},
      {"min_lr", &R::min_lr},
      {"warmup", &R::warmup},
      {"weight_decay", &R::weight_decay},
      {"clip_grad_norm", &R::clip_grad_norm},
      {"eval_interval", &R::eval_interval},
      {"eval_iters", &R::eval_iters},
  };
  return kFields;
}

// Settings added after the first checkpoints: a file without them ran with the defaults.
const std::vector<MetadataField<GptRun>>& added_run_fields() {
  using R = GptRun;
  static const std::vector<MetadataField<R>> kFields = {{"amp", &R::amp}};
  return kFields;
}

}  // namespace

void save_gpt_checkpoint(const std::filesystem::path& path, const GptCheckpoint& checkpoint) {
  Metadata metadata = {{"program", "graft-gpt"}};
  write_fields(checkpoint.run, run_fields(), metadata);
  write_fields(checkpoint.run.model, model_fields(), metadata);
  write_fields(checkpoint.run, added_run_fields(), metadata);
  save_state_file(path, {.model = checkpoint.model,
                         .optimizer = checkpoint.optimizer,
                         .scaler = {},  // graft-gpt's --amp bf16 scales no loss
                         .metadata = std::move(metadata)});
}

GptCheckpoint load_gpt_checkpoint(const std::filesystem::path& path) {
  StateFile file = load_state_file(path, "graft-gpt");
  const MetadataReader metadata(file.metadata, path, "graft-gpt");
  GRAFT_CHECK(metadata.text("program") == "graft-gpt", "load_checkpoint(): ", path,
              " was written by ", metadata.text("program"), ", not graft-gpt");
  GRAFT_CHECK(file.scaler.empty(), "load_checkpoint(): ", path,
              " holds 'scaler.*' tensors, which graft-gpt never writes (it has no loss scaler)");
  GptCheckpoint checkpoint{
      .run = {}, .model = std::move(file.model), .optimizer = std::move(file.optimizer)};
  read_fields(checkpoint.run, run_fields(), metadata);
  read_fields(checkpoint.run.model, model_fields(), metadata);
  read_present_fields(checkpoint.run, added_run_fields(), metadata);
  return checkpoint;
}

}  // namespace graft::examples
