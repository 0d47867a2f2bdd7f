// Peak memory of a piece of code, for tests that bound what a hostile input may cost.
//
// Linux keeps a process's peak resident size (VmHWM in /proc/self/status) and resets it to
// the current resident size when "5" is written to /proc/self/clear_refs, so the peak of one
// call can be read without a second process.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

namespace graft::testing {

namespace detail {
// A "Name:   1234 kB" field of /proc/self/status, in bytes.
inline std::optional<int64_t> proc_status_bytes(const std::string& name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(name + ":", 0) == 0) return std::stoll(line.substr(name.size() + 1)) * 1024;
  }
  return std::nullopt;
}
}  // namespace detail

// Runs `fn` and returns how far the peak resident memory rose above the resident memory
// before it, in bytes; nullopt (after running `fn` all the same) where the system cannot say.
inline std::optional<int64_t> peak_memory_growth(const std::function<void()>& fn) {
  std::ofstream reset("/proc/self/clear_refs");
  const bool can_reset = static_cast<bool>(reset << "5" << std::flush);
  const std::optional<int64_t> before = detail::proc_status_bytes("VmRSS");
  fn();
  const std::optional<int64_t> peak = detail::proc_status_bytes("VmHWM");
  if (!can_reset || !before || !peak) return std::nullopt;
  return *peak - *before;
}

}  // namespace graft::testing
