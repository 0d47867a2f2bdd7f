// The warning handler and its default; see warning.h.
#include "graft/core/warning.h"

#include <iostream>
#include <mutex>
#include <utility>

namespace graft {
namespace {

std::mutex& handler_mutex() {
  static std::mutex m;
  return m;
}

WarningHandler& installed_handler() {
  static WarningHandler handler;
  return handler;
}

}  // namespace

WarningHandler set_warning_handler(WarningHandler handler) {
  const std::lock_guard lock(handler_mutex());
  return std::exchange(installed_handler(), std::move(handler));
}

void warn(const std::string& message) {
  WarningHandler handler;
  {
    const std::lock_guard lock(handler_mutex());
    handler = installed_handler();
  }
  if (handler) {
    handler(message);
  } else {
    std::cerr << "graft warning: " << message << std::endl;
  }
}

}  // namespace graft
