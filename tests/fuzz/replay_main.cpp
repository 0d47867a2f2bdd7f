// A main for the fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput once on every
// file under the folders (or on the files) named on the command line, so that any compiler
// and the sanitizer build of CI replay the corpus and every crasher ever found as a test.
// A finding ends the process as it would under the fuzzer (a trap, a sanitizer report, an
// uncaught exception); an input that ran prints nothing, and the total is printed at the
// end. A named path that does not exist is an error, so a moved corpus cannot pass empty.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

int run(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  std::fprintf(stderr, "%s\n", file.c_str());  // names the culprit if this input fails
  return LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  long inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path root = argv[i];
    if (!fs::exists(root)) {
      std::fprintf(stderr, "fuzz replay: %s does not exist\n", argv[i]);
      return 1;
    }
    std::vector<fs::path> files;
    if (fs::is_directory(root)) {
      for (const auto& entry : fs::recursive_directory_iterator(root))
        if (entry.is_regular_file()) files.push_back(entry.path());
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(root);
    }
    for (const fs::path& file : files) {
      run(file);
      ++inputs;
    }
  }
  std::printf("fuzz replay: %ld inputs ran\n", inputs);
  return 0;
}
