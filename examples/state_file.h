// The checkpoint file of graft's training programs: the model's and the optimizer's state
// dicts in one safetensors file, under the prefixes "model." and "optimizer.", and the run's
// settings as metadata text. graft-train (checkpoint.h) and graft-gpt (gpt_checkpoint.h)
// each have their own metadata keys; the file layout and the text forms of numbers are
// this file's.
//
// The prefixes keep the two state dicts apart in one file, as a PyTorch checkpoint dict
// {"model": ..., "optimizer": ...} does; in Python, the model's tensors are
// `{k[6:]: v for k, v in load_file(path).items() if k.startswith("model.")}`.
// graft::save writes the file atomically, so a run killed mid-save leaves the previous
// checkpoint whole.
#pragma once

#include <charconv>
#include <filesystem>
#include <string>
#include <system_error>

#include "graft/core/error.h"
#include "graft/io/safetensors.h"
#include "graft/io/state_dict.h"

namespace graft::examples {

struct StateFile {
  StateDict model;      // keys without the "model." prefix
  StateDict optimizer;  // keys without the "optimizer." prefix
  Metadata metadata;
};

void save_state_file(const std::filesystem::path& path, const StateFile& file);
// A tensor outside the two prefixes is an error naming the file and `writer`, the program
// whose checkpoints these are ("graft-train").
StateFile load_state_file(const std::filesystem::path& path, const std::string& writer);

// A double as metadata text: its shortest round-trip form, so it reads back bit-identical.
std::string to_text(double value);

// Reads a checkpoint's metadata values; a missing key or a number that does not parse is
// an error naming the file, the key and `writer`.
class MetadataReader {
 public:
  MetadataReader(const Metadata& metadata, std::filesystem::path path, std::string writer)
      : metadata_(metadata), path_(std::move(path)), writer_(std::move(writer)) {}

  bool has(const std::string& key) const { return metadata_.count(key) != 0; }
  const std::string& text(const std::string& key) const;

  template <class T>
  T number(const std::string& key) const {
    const std::string& value = text(key);
    T parsed{};
    const auto result = std::from_chars(value.data(), value.data() + value.size(), parsed);
    GRAFT_CHECK(result.ec == std::errc() && result.ptr == value.data() + value.size(),
                "load_checkpoint(): ", path_, ": metadata '", key, "' is '", value,
                "', not a number");
    return parsed;
  }

 private:
  const Metadata& metadata_;
  std::filesystem::path path_;
  std::string writer_;
};

}  // namespace graft::examples
