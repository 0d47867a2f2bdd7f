// The checkpoint file of graft's training programs: the model's and the optimizer's state
// dicts in one safetensors file, under the prefixes "model." and "optimizer." (and the
// GradScaler's under "scaler." for a float16 run), and the run's settings as metadata text.
// graft-train (checkpoint.h) and graft-gpt (gpt_checkpoint.h) each have their own metadata
// keys; the file layout and the text forms of numbers are this file's.
//
// The prefixes keep the two state dicts apart in one file, as a PyTorch checkpoint dict
// {"model": ..., "optimizer": ...} does; in Python, the model's tensors are
// `{k[6:]: v for k, v in load_file(path).items() if k.startswith("model.")}`.
// graft::save writes the file atomically, so a run killed mid-save leaves the previous
// checkpoint whole.
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "graft/core/error.h"
#include "graft/io/safetensors.h"
#include "graft/io/state_dict.h"

namespace graft::examples {

struct StateFile {
  StateDict model;      // keys without the "model." prefix
  StateDict optimizer;  // keys without the "optimizer." prefix
  StateDict scaler;     // keys without the "scaler." prefix; empty unless loss scaling
  Metadata metadata;
};

void save_state_file(const std::filesystem::path& path, const StateFile& file);
// A tensor outside the prefixes is an error naming the file and `writer`, the program
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

  // The value of `key` into `value`: text as it is, a bool from 0 or 1, a number parsed.
  void read(const std::string& key, std::string& value) const { value = text(key); }
  void read(const std::string& key, bool& value) const { value = number<int>(key) != 0; }
  template <class T>
  void read(const std::string& key, T& value) const {
    value = number<T>(key);
  }

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

// A settings struct S as checkpoint metadata, one table for both ways: each entry's key and
// the member it is written from and read into, so that writing and reading cannot drift.
template <class S>
struct MetadataField {
  const char* key;
  std::variant<std::string S::*, int64_t S::*, uint64_t S::*, double S::*, bool S::*> member;
};

// Metadata text of a value: text as it is, integers exactly, doubles by to_text, bools as
// 1 or 0.
inline std::string metadata_text(const std::string& value) { return value; }
inline std::string metadata_text(bool value) { return value ? "1" : "0"; }
inline std::string metadata_text(double value) { return to_text(value); }
inline std::string metadata_text(int64_t value) { return std::to_string(value); }
inline std::string metadata_text(uint64_t value) { return std::to_string(value); }

template <class S>
void write_fields(const S& settings, const std::vector<MetadataField<S>>& fields,
                  Metadata& metadata) {
  for (const MetadataField<S>& field : fields)
    std::visit([&](auto member) { metadata[field.key] = metadata_text(settings.*member); },
               field.member);
}

template <class S>
void read_fields(S& settings, const std::vector<MetadataField<S>>& fields,
                 const MetadataReader& metadata) {
  for (const MetadataField<S>& field : fields)
    std::visit([&](auto member) { metadata.read(field.key, settings.*member); }, field.member);
}

// As read_fields, for settings added after the first checkpoints were written: a key the
// file lacks leaves its member as it is (the default, which is what older runs used).
template <class S>
void read_present_fields(S& settings, const std::vector<MetadataField<S>>& fields,
                         const MetadataReader& metadata) {
  for (const MetadataField<S>& field : fields) {
    if (!metadata.has(field.key)) continue;
    std::visit([&](auto member) { metadata.read(field.key, settings.*member); }, field.member);
  }
}

}  // namespace graft::examples
