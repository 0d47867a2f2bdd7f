// Fuzz target: the checkpoint readers of graft-train and graft-gpt (examples/checkpoint.h,
// examples/gpt_checkpoint.h), the safetensors reader plus the metadata fields a checkpoint
// must have, on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "checkpoint.h"
#include "fuzz_file.h"
#include "gpt_checkpoint.h"
#include "graft/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = graft::fuzz::fuzz_file(data, size);
  try {
    graft::examples::load_checkpoint(file);
  } catch (const graft::Error&) {
  }
  try {
    graft::examples::load_gpt_checkpoint(file);
  } catch (const graft::Error&) {
  }
  return 0;
}
