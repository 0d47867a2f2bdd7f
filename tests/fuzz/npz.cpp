// Fuzz target: graft::load_npz (io/npz.h) on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "graft/core/error.h"
#include "graft/io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    graft::load_npz(graft::fuzz::fuzz_file(data, size));
  } catch (const graft::Error&) {
  }
  return 0;
}
