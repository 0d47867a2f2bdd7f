// TensorBoard event files (see tensorboard.h).
#include "tensorboard.h"

#include <unistd.h>

#include <array>
#include <bit>
#include <chrono>
#include <cstring>

#include "graft/core/error.h"

namespace graft::examples {
namespace {

// The byte-at-a-time table of the reflected CRC-32C polynomial.
const std::array<uint32_t, 256>& crc32c_table() {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
      table[i] = crc;
    }
    return table;
  }();
  return kTable;
}

// Little-endian fixed-width bytes, as both TFRecord and protobuf's fixed64/fixed32 store them.
template <class T>
void append_fixed(std::string& out, T value) {
  unsigned char bytes[sizeof(T)];
  static_assert(std::endian::native == std::endian::little, "write the bytes in reverse");
  std::memcpy(bytes, &value, sizeof(T));
  out.append(reinterpret_cast<const char*>(bytes), sizeof(T));
}

void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

// A field's key: its number and wire type (0 varint, 1 fixed64, 2 length-delimited,
// 5 fixed32).
void append_key(std::string& out, int field, int wire_type) {
  append_varint(out, static_cast<uint64_t>(field << 3 | wire_type));
}

void append_bytes_field(std::string& out, int field, std::string_view bytes) {
  append_key(out, field, 2);
  append_varint(out, bytes.size());
  out.append(bytes);
}

std::string event_head(double wall_time) {
  std::string event;
  append_key(event, 1, 1);  // wall_time
  append_fixed(event, wall_time);
  return event;
}

double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes)
    crc = (crc >> 8) ^ crc32c_table()[(crc ^ static_cast<uint8_t>(c)) & 0xFF];
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::string_view bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tf_record(std::string_view payload) {
  std::string length;
  append_fixed(length, static_cast<uint64_t>(payload.size()));
  std::string record = length;
  append_fixed(record, masked_crc32c(length));
  record.append(payload);
  append_fixed(record, masked_crc32c(payload));
  return record;
}

std::string file_version_event(double wall_time) {
  std::string event = event_head(wall_time);
  append_bytes_field(event, 3, "brain.Event:2");
  return event;
}

std::string scalar_event(double wall_time, int64_t step, std::string_view tag, float value) {
  std::string summary_value;
  append_bytes_field(summary_value, 1, tag);
  append_key(summary_value, 2, 5);  // simple_value
  append_fixed(summary_value, value);
  std::string summary;
  append_bytes_field(summary, 1, summary_value);
  std::string event = event_head(wall_time);
  append_key(event, 2, 0);  // step
  append_varint(event, static_cast<uint64_t>(step));
  append_bytes_field(event, 5, summary);
  return event;
}

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  const double now = unix_time();
  path_ = folder / ("events.out.tfevents." + std::to_string(static_cast<int64_t>(now)) +
                    ".graft-train." + std::to_string(getpid()));
  file_ = std::fopen(path_.c_str(), "wb");
  GRAFT_CHECK(file_ != nullptr, "graft-train: --tensorboard: cannot create ", path_);
  const std::string record = tf_record(file_version_event(now));
  std::fwrite(record.data(), 1, record.size(), file_);
}

TensorBoardWriter::~TensorBoardWriter() { std::fclose(file_); }

void TensorBoardWriter::add_scalar(std::string_view tag, int64_t step, double value) {
  const std::string record =
      tf_record(scalar_event(unix_time(), step, tag, static_cast<float>(value)));
  std::fwrite(record.data(), 1, record.size(), file_);
}

void TensorBoardWriter::flush() {
  GRAFT_CHECK(std::fflush(file_) == 0, "graft-train: --tensorboard: writing ", path_, " failed");
}

}  // namespace graft::examples
