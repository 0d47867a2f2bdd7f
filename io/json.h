// A minimal JSON reader and writer: exactly what a safetensors header needs, nothing more.
//
// Values are integers (int64), strings, arrays and objects. JSON's fractions, exponents,
// true, false and null are rejected with a clear error: a safetensors header never holds
// them, and a reader that accepts less has less to get wrong. Objects keep their keys in
// file order, duplicates included, so the caller can reject a duplicate with a message
// that names it (a map would silently keep one of the two).
//
// The parser takes untrusted bytes: every error is a graft::Error naming the byte offset
// and what was expected, and what a parse may build is bounded (Limits) and checked while
// parsing, so that hostile text is refused before it has cost more than the bound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace graft::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;  // in file order

enum class Kind : uint8_t { kInteger, kString, kArray, kObject };
const char* kind_name(Kind kind);  // "an integer", "a string", "an array", "an object"

class Value {
 public:
  Value(int64_t value) : data_(value) {}                   // NOLINT(google-explicit-constructor)
  Value(std::string value) : data_(std::move(value)) {}    // NOLINT(google-explicit-constructor)
  Value(const char* value) : data_(std::string(value)) {}  // NOLINT(google-explicit-constructor)
  Value(Array value) : data_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Value(Object value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor)

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  // Each accessor checks the kind; the error names the kind actually held.
  int64_t as_integer() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  friend bool operator==(const Value& a, const Value& b) = default;

 private:
  // Alternatives in the order of Kind, so that index() is the kind.
  std::variant<int64_t, std::string, Array, Object> data_;
};

// What one parse may build. The defaults fit any safetensors header (object > object >
// array is depth 3; a tensor's entry is at most 25 values and keys, so a million is 40000
// tensors) and bound a hostile header's cost: a value takes about 45 bytes of tree for as
// little as 2 bytes of text ("0,"), so without a count a 100 MB header of zeros would build
// a 2 GB tree before any check could refuse it.
struct Limits {
  int max_depth = 32;              // so that a million '[' cannot overflow the stack
  int64_t max_values = 1'000'000;  // values and object keys together: at most about 50 MB
};

// Parses one JSON value; whitespace may surround it, anything else after it is an error.
Value parse(std::string_view text, const Limits& limits = {});

// Compact JSON (no spaces, as Python's safetensors writes it); non-ASCII bytes pass through
// unchanged, '"', '\\' and control characters are escaped.
std::string dump(const Value& value);

}  // namespace graft::json
