// Fuzz target: the JSON parser of safetensors headers (io/json.h) on arbitrary text. A
// malformed text is a graft::Error; whatever parses must dump and parse back to itself.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "graft/core/error.h"
#include "graft/io/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const graft::json::Value value =
        graft::json::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!(graft::json::parse(graft::json::dump(value)) == value)) __builtin_trap();
  } catch (const graft::Error&) {
  }
  return 0;
}
