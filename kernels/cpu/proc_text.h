// The kernel's text files (/proc, /sys) as the CPU team reads them: the load monitor's
// /proc/stat (cpu_load.h) and the control groups' files (cpu_quota.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace graft::kernels::cpu {

// The whole text of the file at `path`; nullopt where it cannot be opened.
std::optional<std::string> read_text(const std::string& path);

// The lines of `text`, each without its newline.
std::vector<std::string_view> lines_of(std::string_view text);

}  // namespace graft::kernels::cpu
