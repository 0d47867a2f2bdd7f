// Fuzz target: graft::load_npy (io/npy.h) on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "graft/core/error.h"
#include "graft/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    graft::load_npy(graft::fuzz::fuzz_file(data, size));
  } catch (const graft::Error&) {
  }
  return 0;
}
