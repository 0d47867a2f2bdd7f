// Fuzz target: graft-train's checkpoint reader (examples/checkpoint.h), the safetensors
// reader plus the metadata fields a checkpoint must have, on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "checkpoint.h"
#include "fuzz_file.h"
#include "graft/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    graft::examples::load_checkpoint(graft::fuzz::fuzz_file(data, size));
  } catch (const graft::Error&) {
  }
  return 0;
}
