// The command-line parsing graft's programs share (graft-train, graft-gpt): GNU-style long
// options, "--iters 3" or "--iters=3", described by one table per program, so that the
// parser, the checks and --help cannot drift apart.
//
// Every mistake (unknown option, missing or malformed value, a value out of range) is a
// graft::Error whose message names the program, the option, what it got and what it takes,
// and points to --help:
//
//   graft-gpt: --iters: must be at least 1, got 0 (see graft-gpt --help)
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "graft/core/error.h"

namespace graft::examples::cli {

// One option as it appeared on the command line.
struct Arg {
  std::string program;  // "graft-gpt"
  std::string name;     // "--iters"
  std::string value;    // "3"; empty for a flag
};

[[noreturn]] void usage_error(const Arg& arg, const std::string& what);

// The value as a T, in full ("3x" is an error); `expected` names what it should be.
template <class T>
T parse_number(const Arg& arg, const char* expected) {
  const std::string& text = arg.value;
  T value{};
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size())
    usage_error(arg, "expected " + std::string(expected) + ", got '" + text + "'");
  return value;
}

double parse_non_negative(const Arg& arg);  // finite and >= 0
double parse_positive(const Arg& arg);      // finite and > 0
int64_t parse_count(const Arg& arg, int64_t min);
std::string parse_choice(const Arg& arg, const std::vector<std::string>& choices);
std::string parse_path(const Arg& arg, const char* what);  // not empty; `what`: "a folder"

// An option of a program whose settings are an `Options` struct.
template <class Options>
struct Option {
  const char* name;   // "--iters"
  const char* value;  // "N" in the help; nullptr: a flag without a value
  std::string help;
  std::function<void(Options&, const Arg&)> store;
};

// The stores most options share, into a field of Options (std::optional fields too).
template <class Options, class Field>
auto count_into(Field Options::*field, int64_t min) {
  return [field, min](Options& o, const Arg& a) { o.*field = parse_count(a, min); };
}
template <class Options, class Field>
auto non_negative_into(Field Options::*field) {
  return [field](Options& o, const Arg& a) { o.*field = parse_non_negative(a); };
}
template <class Options, class Field>
auto positive_into(Field Options::*field) {
  return [field](Options& o, const Arg& a) { o.*field = parse_positive(a); };
}
template <class Options, class Field>
auto path_into(Field Options::*field, const char* what) {
  return [field, what](Options& o, const Arg& a) { o.*field = parse_path(a, what); };
}
template <class Options, class Field>
auto choice_into(Field Options::*field, std::vector<std::string> choices) {
  return [field, choices = std::move(choices)](Options& o, const Arg& a) {
    o.*field = parse_choice(a, choices);
  };
}
template <class Options, class Field>
auto seed_into(Field Options::*field) {
  return [field](Options& o, const Arg& a) {
    o.*field = parse_number<uint64_t>(a, "a non-negative integer");
  };
}
// A flag (an option without a value) that sets a bool.
template <class Options>
auto flag_into(bool Options::*field) {
  return [field](Options& o, const Arg&) { o.*field = true; };
}

// Parses `args` (the words after the program name, or after its subcommand) into `options`.
// "-h" is short for "--help", which the table must list.
template <class Options>
void parse_options(const std::string& program, const std::vector<Option<Options>>& table,
                   const std::vector<std::string>& args, Options& options) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string arg = args[i] == "-h" ? "--help" : args[i];
    if (!arg.starts_with("--")) {
      detail::fail(program, ": unexpected argument '", arg, "'; options start with -- (see ",
                   program, " --help)");
    }
    const size_t equals = arg.find('=');
    Arg parsed{.program = program, .name = arg.substr(0, equals), .value = {}};
    const Option<Options>* option = nullptr;
    for (const Option<Options>& candidate : table)
      if (parsed.name == candidate.name) option = &candidate;
    if (option == nullptr)
      detail::fail(program, ": unknown option '", parsed.name, "' (see ", program, " --help)");
    if (option->value == nullptr) {
      if (equals != std::string::npos) usage_error(parsed, "takes no value");
    } else if (equals != std::string::npos) {
      parsed.value = arg.substr(equals + 1);
    } else {
      if (i + 1 == args.size())
        usage_error(parsed, std::string("expects a value: ") + option->value);
      parsed.value = args[++i];
    }
    option->store(options, parsed);
  }
}

// The table as --help lists it: one line per option, the help text in a column.
template <class Options>
std::string options_help(const std::vector<Option<Options>>& table) {
  std::string text;
  for (const Option<Options>& o : table) {
    std::string left = std::string("  ") + o.name + (o.value ? std::string(" ") + o.value : "");
    left.resize(std::max<size_t>(left.size() + 2, 30), ' ');
    text += left + o.help + "\n";
  }
  return text;
}

}  // namespace graft::examples::cli
