// Device parsing and printing; see device.h.
#include "graft/core/device.h"

#include <cctype>

#include "graft/core/error.h"

namespace graft {

Device::Device(DeviceType type, int index) : type_(type), index_(index) {
  GRAFT_CHECK(index >= 0, "Device: index must be >= 0, got ", index);
  GRAFT_CHECK(type == kCUDA || index == 0, "Device: the CPU has only index 0, got cpu:", index);
}

Device::Device(const std::string& spec) : type_(kCPU), index_(0) {
  auto bad = [&] {
    detail::fail("Device: cannot parse \"", spec,
                 "\"; expected \"cpu\", \"cuda\" or \"cuda:N\" with N a device index");
  };
  if (spec == "cpu") return;
  if (spec.rfind("cuda", 0) != 0) bad();
  type_ = kCUDA;
  if (spec.size() == 4) return;
  if (spec[4] != ':' || spec.size() == 5 || spec.size() > 9) bad();
  int index = 0;
  for (size_t i = 5; i < spec.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(spec[i]))) bad();
    index = index * 10 + (spec[i] - '0');
  }
  index_ = index;
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index_);
}

std::ostream& operator<<(std::ostream& out, Device device) { return out << device.str(); }

}  // namespace graft
