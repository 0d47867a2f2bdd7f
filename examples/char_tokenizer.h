// graft-gpt's tokenizer: one token per character, as nanoGPT's shakespeare_char.
//
// The vocabulary is the set of distinct characters (Unicode code points) of the training
// text, in code point order; token i is the i-th of them. Text is UTF-8 on both sides, so
// "é" is one character and one token, not two bytes. The vocabulary is saved with the
// checkpoint (as its UTF-8 string), so a model samples with the tokenizer it was trained
// with whatever corpus is around.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace graft::examples {

// UTF-8 text as code points. Invalid UTF-8 (a stray continuation byte, a truncated or
// overlong sequence, a surrogate, a value past U+10FFFF) is an error naming `source` (a
// file name, "the prompt") and the byte offset.
std::u32string decode_utf8(std::string_view text, std::string_view source);
std::string encode_utf8(std::u32string_view text);

class CharTokenizer {
 public:
  // The distinct characters of `text`, sorted; empty text is an error.
  static CharTokenizer from_text(std::u32string_view text);
  // From a vocabulary string as vocabulary() writes it (distinct, sorted characters).
  static CharTokenizer from_vocabulary(std::string_view utf8);

  int64_t size() const { return static_cast<int64_t>(chars_.size()); }
  // The characters, in token order, as UTF-8.
  std::string vocabulary() const { return encode_utf8(chars_); }

  // A character outside the vocabulary is an error naming it, where it is in `source`, and
  // the vocabulary's size.
  std::vector<int64_t> encode(std::u32string_view text, std::string_view source) const;
  // Tokens outside [0, size()) are an error.
  std::string decode(const std::vector<int64_t>& tokens) const;

 private:
  explicit CharTokenizer(std::u32string chars) : chars_(std::move(chars)) {}
  std::u32string chars_;  // sorted, distinct
};

// A character as a reader can see it in an error message: 'x' (U+0078), or U+000A alone
// for the control characters.
std::string describe_char(char32_t c);

}  // namespace graft::examples
