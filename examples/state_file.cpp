// Checkpoint files (see state_file.h).
#include "state_file.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace graft::examples {
namespace {

// The file's sections: each state dict under its prefix.
struct Section {
  std::string_view prefix;
  StateDict StateFile::*dict;
};
constexpr Section kSections[] = {
    {"model.", &StateFile::model},
    {"optimizer.", &StateFile::optimizer},
    {"scaler.", &StateFile::scaler},
};

}  // namespace

void save_state_file(const std::filesystem::path& path, const StateFile& file) {
  StateDict tensors;
  for (const Section& section : kSections)
    for (const auto& [key, tensor] : file.*section.dict)
      tensors[std::string(section.prefix) + key] = tensor;
  save(tensors, path, file.metadata);
}

StateFile load_state_file(const std::filesystem::path& path, const std::string& writer) {
  StateFile file;
  file.metadata = load_metadata(path);
  for (auto& [key, tensor] : load(path)) {
    const std::string_view name = key;
    const auto* section =
        std::find_if(std::begin(kSections), std::end(kSections),
                     [&](const Section& s) { return name.starts_with(s.prefix); });
    GRAFT_CHECK(section != std::end(kSections), "load_checkpoint(): ", path, ": tensor '", key,
                "' is none of 'model.*', 'optimizer.*' and 'scaler.*'; is this a checkpoint "
                "written by ",
                writer, "?");
    (file.*section->dict)[std::string(name.substr(section->prefix.size()))] = tensor;
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
