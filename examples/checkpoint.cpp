// Checkpoint files (see checkpoint.h): state_file.h's layout with graft-train's metadata.
// Numbers go in as decimal text: integers exactly, doubles in their shortest round-trip
// form, so a resumed run normalises with bit-identical constants.
#include "checkpoint.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "graft/core/error.h"
#include "state_file.h"

namespace graft::examples {

namespace {

// The settings every graft-train checkpoint has.
const std::vector<MetadataField<CheckpointInfo>>& info_fields() {
  using I = CheckpointInfo;
  static const std::vector<MetadataField<I>> kFields = {
      {"model", &I::model},
      {"optimizer", &I::optimizer},
      {"epoch", &I::epoch},
      {"step", &I::step},
      {"seed", &I::seed},
      {"normalize_mean", &I::normalize_mean},
      {"normalize_std", &I::normalize_std},
      {"step_in_epoch", &I::step_in_epoch},
      {"epoch_loss_sum", &I::epoch_loss_sum},
      {"batch_size", &I::batch_size},
      {"limit", &I::limit},
      {"val_fraction", &I::val_fraction},
      {"lr", &I::lr},
      {"lr_schedule", &I::lr_schedule},
      {"schedule_epochs", &I::schedule_epochs},
      {"warmup", &I::warmup},
      {"weight_decay", &I::weight_decay},
      {"clip_grad_norm", &I::clip_grad_norm},
  };
  return kFields;
}

// Settings added later: a checkpoint without them ran with the defaults (one process, float32).
const std::vector<MetadataField<CheckpointInfo>>& added_fields() {
  using I = CheckpointInfo;
  static const std::vector<MetadataField<I>> kFields = {
      {"world_size", &I::world_size},
      {"amp", &I::amp},
  };
  return kFields;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  Metadata metadata;
  write_fields(checkpoint.info, info_fields(), metadata);
  write_fields(checkpoint.info, added_fields(), metadata);
  save_state_file(path, {.model = checkpoint.model,
                         .optimizer = checkpoint.optimizer,
                         .scaler = checkpoint.scaler,
                         .metadata = std::move(metadata)});
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  StateFile file = load_state_file(path, "graft-train");
  const MetadataReader metadata(file.metadata, path, "graft-train");
  Checkpoint checkpoint{.info = {},
                        .model = std::move(file.model),
                        .optimizer = std::move(file.optimizer),
                        .scaler = std::move(file.scaler)};
  CheckpointInfo& info = checkpoint.info;
  read_fields(info, info_fields(), metadata);
  read_present_fields(info, added_fields(), metadata);
  GRAFT_CHECK(info.world_size >= 1, "load_checkpoint(): ", path, ": metadata 'world_size' is ",
              info.world_size, "; a run has at least one process");
  GRAFT_CHECK(info.amp == "none" || info.amp == "bf16" || info.amp == "fp16",
              "load_checkpoint(): ", path, ": metadata 'amp' is '", info.amp,
              "'; expected none, bf16 or fp16");
  GRAFT_CHECK(info.amp != "fp16" || !checkpoint.scaler.empty(), "load_checkpoint(): ", path,
              ": an --amp fp16 run's checkpoint without the 'scaler.*' tensors of its loss "
              "scaler");
  GRAFT_CHECK(info.amp == "fp16" || checkpoint.scaler.empty(), "load_checkpoint(): ", path,
              ": 'scaler.*' tensors in an --amp ", info.amp,
              " run's checkpoint; only --amp fp16 runs scale the loss");
  return checkpoint;
}

std::string step_checkpoint_name(int64_t step) {
  return "checkpoint-step" + std::to_string(step) + ".safetensors";
}

void prune_step_checkpoints(const std::filesystem::path& folder, int64_t keep) {
  constexpr std::string_view kPrefix = "checkpoint-step", kSuffix = ".safetensors";
  std::vector<std::pair<int64_t, std::filesystem::path>> found;  // (step, file)
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) continue;
    const char* first = name.data() + kPrefix.size();
    const char* last = name.data() + name.size() - kSuffix.size();
    int64_t step = 0;
    const auto result = std::from_chars(first, last, step);
    if (result.ec == std::errc() && result.ptr == last) found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < found.size(); ++i)
    std::filesystem::remove(found[i].second);
}

}  // namespace graft::examples
