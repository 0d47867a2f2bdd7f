// Checkpoint files (see checkpoint.h). Numbers go into the string-only safetensors metadata
// as decimal text: integers exactly, doubles in their shortest round-trip form (to_chars),
// so a resumed run normalises with bit-identical constants.
#include "checkpoint.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "graft/core/error.h"
#include "graft/io/safetensors.h"

namespace graft::examples {
namespace {

constexpr std::string_view kModelPrefix = "model.";
constexpr std::string_view kOptimizerPrefix = "optimizer.";

std::string to_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

const std::string& required(const Metadata& metadata, const std::filesystem::path& path,
                            const std::string& key) {
  const auto it = metadata.find(key);
  GRAFT_CHECK(it != metadata.end(), "load_checkpoint(): ", path, ": no '", key,
              "' in the metadata; is this a checkpoint written by graft-train?");
  return it->second;
}

template <class T>
T parse(const Metadata& metadata, const std::filesystem::path& path, const std::string& key) {
  const std::string& text = required(metadata, path, key);
  T value{};
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  GRAFT_CHECK(result.ec == std::errc() && result.ptr == text.data() + text.size(),
              "load_checkpoint(): ", path, ": metadata '", key, "' is '", text, "', not a number");
  return value;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  StateDict tensors;
  for (const auto& [key, tensor] : checkpoint.model)
    tensors[std::string(kModelPrefix) + key] = tensor;
  for (const auto& [key, tensor] : checkpoint.optimizer)
    tensors[std::string(kOptimizerPrefix) + key] = tensor;
  const CheckpointInfo& info = checkpoint.info;
  save(tensors, path,
       {{"model", info.model},
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
        {"world_size", std::to_string(info.world_size)}});
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  Checkpoint checkpoint;
  const Metadata metadata = load_metadata(path);
  CheckpointInfo& info = checkpoint.info;
  info.model = required(metadata, path, "model");
  info.optimizer = required(metadata, path, "optimizer");
  info.epoch = parse<int64_t>(metadata, path, "epoch");
  info.step = parse<int64_t>(metadata, path, "step");
  info.seed = parse<uint64_t>(metadata, path, "seed");
  info.normalize_mean = parse<double>(metadata, path, "normalize_mean");
  info.normalize_std = parse<double>(metadata, path, "normalize_std");
  info.step_in_epoch = parse<int64_t>(metadata, path, "step_in_epoch");
  info.epoch_loss_sum = parse<double>(metadata, path, "epoch_loss_sum");
  info.batch_size = parse<int64_t>(metadata, path, "batch_size");
  info.limit = parse<int64_t>(metadata, path, "limit");
  info.val_fraction = parse<double>(metadata, path, "val_fraction");
  info.lr = parse<double>(metadata, path, "lr");
  info.lr_schedule = required(metadata, path, "lr_schedule");
  info.schedule_epochs = parse<int64_t>(metadata, path, "schedule_epochs");
  info.warmup = parse<int64_t>(metadata, path, "warmup");
  info.weight_decay = parse<double>(metadata, path, "weight_decay");
  info.clip_grad_norm = parse<double>(metadata, path, "clip_grad_norm");
  // Checkpoints from before distributed training were all made by one process.
  info.world_size = metadata.count("world_size") ? parse<int64_t>(metadata, path, "world_size") : 1;
  GRAFT_CHECK(info.world_size >= 1, "load_checkpoint(): ", path, ": metadata 'world_size' is ",
              info.world_size, "; a run has at least one process");
  for (auto& [key, tensor] : load(path)) {
    const std::string_view name = key;
    if (name.starts_with(kModelPrefix)) {
      checkpoint.model[std::string(name.substr(kModelPrefix.size()))] = tensor;
    } else if (name.starts_with(kOptimizerPrefix)) {
      checkpoint.optimizer[std::string(name.substr(kOptimizerPrefix.size()))] = tensor;
    } else {
      detail::fail("load_checkpoint(): ", path, ": tensor '", key,
                   "' is neither 'model.*' nor 'optimizer.*'; is this a checkpoint written by "
                   "graft-train?");
    }
  }
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
