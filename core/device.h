// Where a tensor's memory lives: the CPU or one CUDA device.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace graft {

enum class DeviceType : uint8_t { kCPU, kCUDA };
inline constexpr DeviceType kCPU = DeviceType::kCPU;
inline constexpr DeviceType kCUDA = DeviceType::kCUDA;
inline constexpr int kNumDeviceTypes = 2;

class Device {
 public:
  // Device(kCUDA) is cuda:0; the CPU has the single index 0.
  Device(DeviceType type = kCPU, int index = 0);  // NOLINT(google-explicit-constructor)
  // Parses "cpu", "cuda", "cuda:1"; anything else is a graft::Error.
  Device(const std::string& spec);                         // NOLINT(google-explicit-constructor)
  Device(const char* spec) : Device(std::string(spec)) {}  // NOLINT

  static Device cpu() { return Device(kCPU); }
  static Device cuda(int index = 0) { return Device(kCUDA, index); }

  DeviceType type() const { return type_; }
  int index() const { return index_; }
  bool is_cpu() const { return type_ == kCPU; }
  bool is_cuda() const { return type_ == kCUDA; }
  std::string str() const;  // "cpu", "cuda:0"

  friend bool operator==(Device a, Device b) { return a.type_ == b.type_ && a.index_ == b.index_; }

 private:
  DeviceType type_;
  int index_;
};

std::ostream& operator<<(std::ostream& out, Device device);

}  // namespace graft
