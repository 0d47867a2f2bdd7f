// The one scratch file a fuzz target hands to a loader that takes a path: graft's readers
// open files, and a fuzzer produces bytes. One file per process, rewritten for every input
// (millions of create/delete pairs would cost more than the parse), in /dev/shm when the
// machine has it so that no input touches a disk, and removed at exit.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace graft::fuzz {

class FuzzFile {
 public:
  FuzzFile() {
    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec)
                                          ? std::filesystem::path("/dev/shm")
                                          : std::filesystem::temp_directory_path();
    path_ = dir / ("graft-fuzz-" + std::to_string(getpid()));
  }
  ~FuzzFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  FuzzFile(const FuzzFile&) = delete;
  FuzzFile& operator=(const FuzzFile&) = delete;

  // Replaces the file's content with the input and returns its path.
  const std::filesystem::path& write(const uint8_t* data, size_t size) {
    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path_;
  }

 private:
  std::filesystem::path path_;
};

// The process's scratch file (made on first use, removed at exit).
inline const std::filesystem::path& fuzz_file(const uint8_t* data, size_t size) {
  static FuzzFile file;
  return file.write(data, size);
}

}  // namespace graft::fuzz
