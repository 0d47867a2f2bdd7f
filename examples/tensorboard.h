// TensorBoard scalar event files, written by hand: no protobuf or TensorFlow library, the
// few bytes of the format spelled out here.
//
// A file is a sequence of TFRecords:
//   uint64 length (little-endian) | uint32 masked_crc32c(length bytes) |
//   payload (length bytes)        | uint32 masked_crc32c(payload)
// with masked_crc32c(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 over CRC-32C
// (Castagnoli). Each payload is a protocol-buffer Event message:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
//             Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
// The first record holds file_version "brain.Event:2"; each scalar is one Event of one
// Value. `tensorboard --logdir DIR` reads the folder.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace graft::examples {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `bytes`.
uint32_t crc32c(std::string_view bytes);
// The TFRecord mask over a CRC-32C.
uint32_t masked_crc32c(std::string_view bytes);

// One TFRecord: the framing around `payload`.
std::string tf_record(std::string_view payload);
// The Event payloads.
std::string file_version_event(double wall_time);
std::string scalar_event(double wall_time, int64_t step, std::string_view tag, float value);

class TensorBoardWriter {
 public:
  // Creates DIR/events.out.tfevents.<unix time>.graft-train.<pid> with its first record.
  explicit TensorBoardWriter(const std::filesystem::path& folder);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(std::string_view tag, int64_t step, double value);
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

}  // namespace graft::examples
