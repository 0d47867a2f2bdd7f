// Warnings: the call worked, but probably not as its caller meant (PyTorch's TORCH_WARN).
//
// A warning goes to the handler, by default one that prints "graft warning: <message>" on
// stderr. A program that logs elsewhere, or a test that checks a warning was given, installs
// its own:
//
//   std::vector<std::string> seen;
//   auto previous = graft::set_warning_handler([&](const std::string& m) { seen.push_back(m); });
//   ...
//   graft::set_warning_handler(previous);
//
// The handler is process-wide; install it before starting threads that may warn.
#pragma once

#include <functional>
#include <string>

namespace graft {

using WarningHandler = std::function<void(const std::string& message)>;

// Installs `handler` (an empty one restores the default) and returns the one it replaces.
WarningHandler set_warning_handler(WarningHandler handler);

// Hands `message` to the handler.
void warn(const std::string& message);

}  // namespace graft
