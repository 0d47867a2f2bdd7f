// Fuzz target: graft::load_metadata and graft::load (io/safetensors.h) on arbitrary bytes.
// load_metadata validates the header only; load also reads the data, and refuses some that
// load_metadata does not look at (a BOOL byte other than 0 or 1), so each is called on its
// own and neither outcome says anything about the other's.
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "graft/core/error.h"
#include "graft/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = graft::fuzz::fuzz_file(data, size);
  try {
    graft::load_metadata(path);
  } catch (const graft::Error&) {
  }
  try {
    graft::load(path);
  } catch (const graft::Error&) {
  }
  return 0;
}
