// Fuzz target: graft::load and graft::load_metadata (io/safetensors.h) on arbitrary bytes.
// Both run on every input: load_metadata validates the whole header without reading the
// data, so a header that one accepts and the other refuses is a finding too.
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "graft/core/error.h"
#include "graft/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = graft::fuzz::fuzz_file(data, size);
  bool metadata_ok = false;
  try {
    graft::load_metadata(path);
    metadata_ok = true;
    graft::load(path);
  } catch (const graft::Error&) {
    if (metadata_ok) __builtin_trap();
  }
  return 0;
}
