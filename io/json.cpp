// The JSON subset of json.h: a recursive-descent parser over a string_view and a compact
// writer. The grammar is RFC 8259's, less the value kinds json.h leaves out.
#include "graft/io/json.h"

#include <cstdio>
#include <limits>

#include "graft/core/error.h"

namespace graft::json {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kInteger:
      return "an integer";
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
  }
  return "an unknown value";
}

namespace {

template <Kind kKind, class T>
const T& get(const std::variant<int64_t, std::string, Array, Object>& data) {
  const auto* value = std::get_if<static_cast<size_t>(kKind)>(&data);
  GRAFT_CHECK(value != nullptr, "json: expected ", kind_name(kKind), ", got ",
              kind_name(static_cast<Kind>(data.index())));
  return *value;
}

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  Value parse_document() {
    Value value = parse_value(0);
    skip_whitespace();
    check(pos_ == text_.size(), "unexpected '", text_[pos_ < text_.size() ? pos_ : 0],
          "' after the end of the JSON value");
    return value;
  }

 private:
  template <class... Args>
  [[noreturn]] void fail(const Args&... args) const {
    detail::fail("invalid JSON at byte ", pos_, ": ", args...);
  }
  template <class... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) [[unlikely]]
      fail(args...);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  void expect(char c, const char* context) {
    skip_whitespace();
    check(!at_end(), "the text ends where '", c, "' was expected ", context);
    check(peek() == c, "expected '", c, "' ", context, ", got '", peek(), "'");
    ++pos_;
  }

  // Called for every value and object key before it is built.
  void count_value() {
    check(++values_ <= limits_.max_values, "more than ", limits_.max_values,
          " values and keys, the most a parse accepts");
  }

  Value parse_value(int depth) {
    check(depth < limits_.max_depth, "values are nested more than ", limits_.max_depth, " deep");
    count_value();
    skip_whitespace();
    check(!at_end(), "the text ends where a value was expected");
    const char c = peek();
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return parse_string();
    if (c == '-' || (c >= '0' && c <= '9')) return parse_integer();
    fail("unexpected '", c,
         "' where a value was expected (graft's JSON reads integers, strings, arrays and "
         "objects only; true, false and null are not supported)");
  }

  Object parse_object(int depth) {
    ++pos_;  // '{'
    Object object;
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return object;
    }
    while (true) {
      skip_whitespace();
      check(peek() == '"', "expected a string key in an object");
      count_value();
      std::string key = parse_string();
      expect(':', "after an object key");
      object.emplace_back(std::move(key), parse_value(depth + 1));
      skip_whitespace();
      check(!at_end(), "the text ends inside an object (missing '}')");
      if (peek() == '}') break;
      expect(',', "between the members of an object");
    }
    ++pos_;  // '}'
    return object;
  }

  Array parse_array(int depth) {
    ++pos_;  // '['
    Array array;
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return array;
    }
    while (true) {
      array.push_back(parse_value(depth + 1));
      skip_whitespace();
      check(!at_end(), "the text ends inside an array (missing ']')");
      if (peek() == ']') break;
      expect(',', "between the elements of an array");
    }
    ++pos_;  // ']'
    return array;
  }

  int64_t parse_integer() {
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    check(!at_end() && peek() >= '0' && peek() <= '9', "expected a digit");
    check(!(peek() == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
            text_[pos_ + 1] <= '9'),
          "numbers may not have leading zeros");
    // Accumulate negatively: -2^63 fits, +2^63 does not.
    int64_t value = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      check(value >= (std::numeric_limits<int64_t>::min() + digit) / 10,
            "the integer does not fit in 64 bits");
      value = value * 10 - digit;
      ++pos_;
    }
    check(peek() != '.' && peek() != 'e' && peek() != 'E',
          "numbers with a fraction or an exponent are not supported (integers only)");
    if (negative) return value;
    check(value != std::numeric_limits<int64_t>::min(), "the integer does not fit in 64 bits");
    return -value;
  }

  uint32_t parse_hex4() {
    check(pos_ + 4 <= text_.size(), "the text ends inside a \\u escape");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char h = peek();
      const int digit = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
      check(digit >= 0, "expected a hex digit in a \\u escape, got '", h, "'");
      code = code * 16 + static_cast<uint32_t>(digit);
    }
    return code;
  }

  // A \uXXXX escape (the "\u" already consumed), a surrogate pair joined, as UTF-8.
  void append_unicode_escape(std::string& out) {
    uint32_t code = parse_hex4();
    if (code >= 0xD800 && code <= 0xDBFF) {
      check(text_.substr(pos_, 2) == "\\u",
            "a high surrogate \\u escape must be followed by a low one");
      pos_ += 2;
      const uint32_t low = parse_hex4();
      check(low >= 0xDC00 && low <= 0xDFFF,
            "a high surrogate \\u escape must be followed by a low one");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    } else {
      check(code < 0xDC00 || code > 0xDFFF, "a low surrogate \\u escape without a high one");
    }
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string parse_string() {
    ++pos_;  // '"'
    std::string out;
    while (true) {
      check(!at_end(), "the text ends inside a string (missing '\"')");
      const char c = text_[pos_++];
      if (c == '"') return out;
      check(static_cast<unsigned char>(c) >= 0x20, "a control character (byte ",
            static_cast<int>(c), ") inside a string must be escaped");
      if (c != '\\') {
        out += c;
        continue;
      }
      check(!at_end(), "the text ends inside an escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          append_unicode_escape(out);
          break;
        default:
          --pos_;
          fail("unknown escape '\\", e, "'");
      }
    }
  }

  std::string_view text_;
  Limits limits_;
  size_t pos_ = 0;
  int64_t values_ = 0;
};

void dump_string(const std::string& s, std::string& out) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void dump_value(const Value& value, std::string& out) {
  switch (value.kind()) {
    case Kind::kInteger:
      out += std::to_string(value.as_integer());
      break;
    case Kind::kString:
      dump_string(value.as_string(), out);
      break;
    case Kind::kArray: {
      out += '[';
      const char* separator = "";
      for (const Value& element : value.as_array()) {
        out += separator;
        dump_value(element, out);
        separator = ",";
      }
      out += ']';
      break;
    }
    case Kind::kObject: {
      out += '{';
      const char* separator = "";
      for (const auto& [key, member] : value.as_object()) {
        out += separator;
        dump_string(key, out);
        out += ':';
        dump_value(member, out);
        separator = ",";
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

int64_t Value::as_integer() const { return get<Kind::kInteger, int64_t>(data_); }
const std::string& Value::as_string() const { return get<Kind::kString, std::string>(data_); }
const Array& Value::as_array() const { return get<Kind::kArray, Array>(data_); }
const Object& Value::as_object() const { return get<Kind::kObject, Object>(data_); }

Value parse(std::string_view text, const Limits& limits) {
  return Parser(text, limits).parse_document();
}

std::string dump(const Value& value) {
  std::string out;
  dump_value(value, out);
  return out;
}

}  // namespace graft::json
