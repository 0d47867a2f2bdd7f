// Fuzz target: graft::data::IdxFile (data/idx.h) on arbitrary bytes. The reader tells gzip
// from plain IDX by the first two bytes, so one target reaches both paths; the corpus holds
// seeds of each.
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "graft/core/error.h"
#include "graft/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    graft::data::IdxFile file(graft::fuzz::fuzz_file(data, size));
  } catch (const graft::Error&) {
  }
  return 0;
}
