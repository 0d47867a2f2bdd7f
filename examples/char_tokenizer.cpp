// UTF-8 and the character tokenizer (see char_tokenizer.h).
#include "char_tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "graft/core/error.h"

namespace graft::examples {

std::u32string decode_utf8(std::string_view text, std::string_view source) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  const auto bad = [&](const char* what) {
    detail::fail(source, " is not UTF-8 text: ", what, " at byte ", i);
  };
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out.push_back(lead);
      ++i;
      continue;
    }
    // The lead byte says how many continuation bytes follow and the smallest code point
    // that needs that many (a smaller one is an "overlong" form, which UTF-8 forbids).
    int extra = 0;
    char32_t c = 0, smallest = 0;
    if ((lead & 0xE0) == 0xC0) {
      extra = 1, c = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2, c = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3, c = lead & 0x07, smallest = 0x10000;
    } else {
      bad("a byte that cannot start a character");
    }
    if (text.size() - i <= static_cast<size_t>(extra))
      bad("a character cut off by the end of the text");
    for (int k = 1; k <= extra; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
      if ((byte & 0xC0) != 0x80) bad("a character cut short");
      c = (c << 6) | (byte & 0x3F);
    }
    if (c < smallest) bad("an overlong encoding");
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) bad("a code point that is not a character");
    out.push_back(c);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::string describe_char(char32_t c) {
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
  if (c < 0x20 || c == 0x7F) return code;
  std::string text = "'";  // appended piece by piece: GCC 12 warns on "lit" + string
  text += encode_utf8(std::u32string_view(&c, 1));
  text += "' (";
  text += code;
  text += ')';
  return text;
}

CharTokenizer CharTokenizer::from_text(std::u32string_view text) {
  GRAFT_CHECK(!text.empty(), "CharTokenizer: the text is empty; a vocabulary needs characters");
  std::u32string chars(text);
  std::sort(chars.begin(), chars.end());
  chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
  return CharTokenizer(std::move(chars));
}

CharTokenizer CharTokenizer::from_vocabulary(std::string_view utf8) {
  std::u32string chars = decode_utf8(utf8, "the vocabulary");
  GRAFT_CHECK(!chars.empty(), "CharTokenizer: the vocabulary is empty");
  GRAFT_CHECK(std::adjacent_find(chars.begin(), chars.end(), std::greater_equal<>()) == chars.end(),
              "CharTokenizer: the vocabulary's characters are not distinct and sorted");
  return CharTokenizer(std::move(chars));
}

std::vector<int64_t> CharTokenizer::encode(std::u32string_view text,
                                           std::string_view source) const {
  std::vector<int64_t> tokens(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto it = std::lower_bound(chars_.begin(), chars_.end(), text[i]);
    if (it == chars_.end() || *it != text[i]) {
      detail::fail(source, ": the character ", describe_char(text[i]), " at position ", i,
                   " is not in the model's vocabulary of ", size(), " characters");
    }
    tokens[i] = it - chars_.begin();
  }
  return tokens;
}

std::string CharTokenizer::decode(const std::vector<int64_t>& tokens) const {
  std::u32string text(tokens.size(), U'\0');
  for (size_t i = 0; i < tokens.size(); ++i) {
    GRAFT_CHECK(tokens[i] >= 0 && tokens[i] < size(), "CharTokenizer::decode: token ", tokens[i],
                " at position ", i, " is outside the vocabulary [0, ", size(), ")");
    text[i] = chars_[static_cast<size_t>(tokens[i])];
  }
  return encode_utf8(text);
}

}  // namespace graft::examples
