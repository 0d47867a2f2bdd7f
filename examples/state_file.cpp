// Checkpoint files (see state_file.h).
#include "state_file.h"

#include <string_view>

namespace graft::examples {
namespace {

constexpr std::string_view kModelPrefix = "model.";
constexpr std::string_view kOptimizerPrefix = "optimizer.";

}  // namespace

void save_state_file(const std::filesystem::path& path, const StateFile& file) {
  StateDict tensors;
  for (const auto& [key, tensor] : file.model) tensors[std::string(kModelPrefix) + key] = tensor;
  for (const auto& [key, tensor] : file.optimizer)
    tensors[std::string(kOptimizerPrefix) + key] = tensor;
  save(tensors, path, file.metadata);
}

StateFile load_state_file(const std::filesystem::path& path, const std::string& writer) {
  StateFile file;
  file.metadata = load_metadata(path);
  for (auto& [key, tensor] : load(path)) {
    const std::string_view name = key;
    if (name.starts_with(kModelPrefix)) {
      file.model[std::string(name.substr(kModelPrefix.size()))] = tensor;
    } else if (name.starts_with(kOptimizerPrefix)) {
      file.optimizer[std::string(name.substr(kOptimizerPrefix.size()))] = tensor;
    } else {
      detail::fail("load_checkpoint(): ", path, ": tensor '", key,
                   "' is neither 'model.*' nor 'optimizer.*'; is this a checkpoint written by ",
                   writer, "?");
    }
  }
  return file;
}

std::string to_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

const std::string& MetadataReader::text(const std::string& key) const {
  const auto it = metadata_.find(key);
  GRAFT_CHECK(it != metadata_.end(), "load_checkpoint(): ", path_, ": no '", key,
              "' in the metadata; is this a checkpoint written by ", writer_, "?");
  return it->second;
}

}  // namespace graft::examples
