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

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  const CheckpointInfo& info = checkpoint.info;
  save_state_file(path, {.model = checkpoint.model,
                         .optimizer = checkpoint.optimizer,
                         .metadata = {{"model", info.model},
                                      {"optimizer", info.optimizer},
                                      {"epoch", std::to_string(info.epoch)},
                                      {"step", std::to_string(info.step)},
                                      {"seed", std::to_string(info.seed)},
                                      {"normalize_mean", to_text(info.normalize_mean)},
                                      {"normalize_std", to_text(info.normalize_std)},
                                      {"step_in_epoch", std::to_string(info.step_in_epoch)},
                                      {"epoch_loss_sum", to_text(info.epoch_loss_sum)},
                                      {"batch_size", std::to_string(info.batch_size)},
                                      {"limit", std::to_string(info.limit)},
                                      {"val_fraction", to_text(info.val_fraction)},
                                      {"lr", to_text(info.lr)},
                                      {"lr_schedule", info.lr_schedule},
                                      {"schedule_epochs", std::to_string(info.schedule_epochs)},
                                      {"warmup", std::to_string(info.warmup)},
                                      {"weight_decay", to_text(info.weight_decay)},
                                      {"clip_grad_norm", to_text(info.clip_grad_norm)},
                                      {"world_size", std::to_string(info.world_size)}}});
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  StateFile file = load_state_file(path, "graft-train");
  const MetadataReader metadata(file.metadata, path, "graft-train");
  Checkpoint checkpoint{
      .info = {}, .model = std::move(file.model), .optimizer = std::move(file.optimizer)};
  CheckpointInfo& info = checkpoint.info;
  info.model = metadata.text("model");
  info.optimizer = metadata.text("optimizer");
  info.epoch = metadata.number<int64_t>("epoch");
  info.step = metadata.number<int64_t>("step");
  info.seed = metadata.number<uint64_t>("seed");
  info.normalize_mean = metadata.number<double>("normalize_mean");
  info.normalize_std = metadata.number<double>("normalize_std");
  info.step_in_epoch = metadata.number<int64_t>("step_in_epoch");
  info.epoch_loss_sum = metadata.number<double>("epoch_loss_sum");
  info.batch_size = metadata.number<int64_t>("batch_size");
  info.limit = metadata.number<int64_t>("limit");
  info.val_fraction = metadata.number<double>("val_fraction");
  info.lr = metadata.number<double>("lr");
  info.lr_schedule = metadata.text("lr_schedule");
  info.schedule_epochs = metadata.number<int64_t>("schedule_epochs");
  info.warmup = metadata.number<int64_t>("warmup");
  info.weight_decay = metadata.number<double>("weight_decay");
  info.clip_grad_norm = metadata.number<double>("clip_grad_norm");
  // Checkpoints from before distributed training were all made by one process.
  info.world_size = metadata.has("world_size") ? metadata.number<int64_t>("world_size") : 1;
  GRAFT_CHECK(info.world_size >= 1, "load_checkpoint(): ", path, ": metadata 'world_size' is ",
              info.world_size, "; a run has at least one process");
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
