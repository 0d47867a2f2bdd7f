// TensorBoard event files: CRC-32C against published check values, and a written file
// read back by a small decoder of TFRecords and the Event fields (written from the format
// in tensorboard.h, independently of the encoder).
#include "tensorboard.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <vector>

namespace graft::examples {
namespace {

namespace fs = std::filesystem;

TEST(Crc32c, KnownVectors) {
  // The CRC catalogue's check value of CRC-32C, and RFC 3720's (iSCSI) test vectors.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending += static_cast<char>(i);
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(""), 0u);
}

// ---- a decoder, just enough for the test

uint64_t read_varint(std::string_view bytes, size_t& at) {
  uint64_t value = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes.at(at++));
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return value;
  }
}

template <class T>
T read_fixed(std::string_view bytes, size_t& at) {
  T value;
  std::memcpy(&value, bytes.substr(at, sizeof(T)).data(), sizeof(T));
  at += sizeof(T);
  return value;
}

struct Event {
  double wall_time = 0;
  int64_t step = -1;
  std::string file_version, tag;
  float value = 0;
};

// Reads one message level's fields into `event`: depth 0 Event, 1 Summary, 2 Value.
void decode_message(std::string_view bytes, Event& event, int depth) {
  size_t at = 0;
  while (at < bytes.size()) {
    const uint64_t key = read_varint(bytes, at);
    const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (wire == 0) {
      const uint64_t v = read_varint(bytes, at);
      ASSERT_EQ(field, 2);
      event.step = static_cast<int64_t>(v);
    } else if (wire == 1) {
      ASSERT_EQ(field, 1);
      event.wall_time = read_fixed<double>(bytes, at);
    } else if (wire == 5) {
      ASSERT_EQ(depth, 2);  // Value.simple_value
      ASSERT_EQ(field, 2);
      event.value = read_fixed<float>(bytes, at);
    } else {
      ASSERT_EQ(wire, 2);
      const auto size = static_cast<size_t>(read_varint(bytes, at));
      const std::string_view inner = bytes.substr(at, size);
      at += size;
      if (depth == 0 && field == 3) {
        event.file_version = inner;
      } else if (depth == 2 && field == 1) {
        event.tag = inner;
      } else {
        // Event.summary (5), then Summary.value (1)
        ASSERT_EQ(field, depth == 0 ? 5 : 1);
        decode_message(inner, event, depth + 1);
      }
    }
  }
}

std::vector<Event> read_events(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string_view bytes = file;
  std::vector<Event> events;
  size_t at = 0;
  while (at < bytes.size()) {
    const std::string_view length_bytes = bytes.substr(at, 8);
    const auto length = read_fixed<uint64_t>(bytes, at);
    EXPECT_EQ(read_fixed<uint32_t>(bytes, at), masked_crc32c(length_bytes));
    const std::string_view payload = bytes.substr(at, length);
    at += length;
    EXPECT_EQ(read_fixed<uint32_t>(bytes, at), masked_crc32c(payload));
    Event event;
    decode_message(payload, event, 0);
    events.push_back(event);
  }
  return events;
}

TEST(TensorBoard, AFileOfScalarsDecodes) {
  const fs::path dir = fs::temp_directory_path() / "graft_tensorboard_test";
  fs::remove_all(dir);
  fs::path path;
  {
    TensorBoardWriter writer(dir);
    path = writer.path();
    writer.add_scalar("train/loss", 1, 2.5);
    writer.add_scalar("val/accuracy", 300, 0.875);
  }
  EXPECT_TRUE(path.filename().string().starts_with("events.out.tfevents."));
  const std::vector<Event> events = read_events(path);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.7e9);  // seconds since 1970: after 2023
  EXPECT_EQ(events[1].tag, "train/loss");
  EXPECT_EQ(events[1].step, 1);
  EXPECT_EQ(events[1].value, 2.5f);
  EXPECT_EQ(events[2].tag, "val/accuracy");
  EXPECT_EQ(events[2].step, 300);  // a two-byte varint
  EXPECT_EQ(events[2].value, 0.875f);
  EXPECT_GE(events[2].wall_time, events[0].wall_time);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace graft::examples
