// The kernel's text files (/proc, /sys) as the CPU team reads them: the load monitor's
// /proc/stat (cpu_load.h) and the control groups' files (cpu_quota.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace graft::kernels::cpu {

// The whole text of the file at `path`; nullopt where it cannot be opened.
std::optional<std::string> read_text(const std::string& path);

// The fields of `text` separated by `separator`, empty ones kept ("a::b" by ':': "a", "", "b").
std::vector<std::string_view> fields_of(std::string_view text, char separator);

// The lines of `text`, each without its newline (fields_of by '\n', less the empty one after a
// last newline).
std::vector<std::string_view> lines_of(std::string_view text);

// Reads `count` integers separated by spaces from the front of `text`, which it advances past
// them; false where one does not parse.
bool read_numbers(std::string_view& text, int64_t* numbers, int count);

}  // namespace graft::kernels::cpu
