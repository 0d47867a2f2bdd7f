// Checkpoint files (see checkpoint.h). Numbers go into the string-only safetensors metadata
// as decimal text: integers exactly, doubles in their shortest round-trip form (to_chars),
// so a resumed run normalises with bit-identical constants.
#include "checkpoint.h"

#include <charconv>
#include <string_view>
#include <system_error>

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
        {"normalize_std", to_text(info.normalize_std)}});
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

}  // namespace graft::examples
