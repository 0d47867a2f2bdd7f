// The value parsers of command_line.h.
#include "command_line.h"

#include <cmath>

namespace graft::examples::cli {

void usage_error(const Arg& arg, const std::string& what) {
  detail::fail(arg.program, ": ", arg.name, ": ", what, " (see ", arg.program, " --help)");
}

double parse_non_negative(const Arg& arg) {
  const auto value = parse_number<double>(arg, "a number");
  if (!(value >= 0) || !std::isfinite(value))
    usage_error(arg, "must be a finite number >= 0, got " + arg.value);
  return value;
}

double parse_positive(const Arg& arg) {
  const auto value = parse_number<double>(arg, "a number");
  if (!(value > 0) || !std::isfinite(value)) usage_error(arg, "must be positive, got " + arg.value);
  return value;
}

int64_t parse_count(const Arg& arg, int64_t min) {
  const auto value = parse_number<int64_t>(arg, "an integer");
  if (value < min)
    usage_error(arg, "must be at least " + std::to_string(min) + ", got " + arg.value);
  return value;
}

std::string parse_choice(const Arg& arg, const std::vector<std::string>& choices) {
  std::string listed;
  for (const std::string& c : choices) {
    if (c == arg.value) return c;
    listed += (listed.empty() ? "" : ", ") + c;
  }
  usage_error(arg, "unknown value '" + arg.value + "'; choose one of " + listed);
}

std::string parse_path(const Arg& arg, const char* what) {
  if (arg.value.empty())
    usage_error(arg, std::string("expected ") + what + ", got an empty string");
  return arg.value;
}

}  // namespace graft::examples::cli
