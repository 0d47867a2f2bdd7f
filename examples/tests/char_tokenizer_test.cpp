// The character tokenizer and its UTF-8 codec: round trips over every kind of character,
// each way UTF-8 can be malformed, and the errors a user meets (a prompt character the
// model never saw).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "char_tokenizer.h"
#include "graft/core/error.h"
#include "test_util.h"

namespace graft::examples {
namespace {

using testing::error_message;
using ::testing::HasSubstr;

TEST(Utf8, DecodesAndEncodesEveryLength) {
  // 1, 2, 3 and 4 bytes: 'a', 'é' (U+00E9), '€' (U+20AC), '𝄞' (U+1D11E).
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E";
  const std::u32string decoded = decode_utf8(text, "test");
  EXPECT_EQ(decoded, (std::u32string{U'a', U'\u00E9', U'\u20AC', U'\U0001D11E'}));
  EXPECT_EQ(encode_utf8(decoded), text);
  // The boundaries of each length round-trip too.
  const std::u32string edges{0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
  EXPECT_EQ(decode_utf8(encode_utf8(edges), "test"), edges);
}

TEST(Utf8, MalformedTextIsAnErrorNamingTheSourceAndTheByte) {
  const auto message = [](const std::string& bytes) {
    return error_message([&] { decode_utf8(bytes, "notes.txt"); });
  };
  EXPECT_THAT(message("ab\x80"), HasSubstr("notes.txt is not UTF-8 text: a byte that cannot start "
                                           "a character at byte 2"));
  EXPECT_THAT(message("a\xC3"), HasSubstr("cut off by the end of the text at byte 1"));
  EXPECT_THAT(message("\xE2\x82x"), HasSubstr("a character cut short at byte 0"));
  EXPECT_THAT(message("\xC0\xAF"), HasSubstr("an overlong encoding"));     // '/' in two bytes
  EXPECT_THAT(message("\xED\xA0\x80"), HasSubstr("not a character"));      // a surrogate
  EXPECT_THAT(message("\xF4\x90\x80\x80"), HasSubstr("not a character"));  // past U+10FFFF
  EXPECT_THAT(message("\xFF"), HasSubstr("cannot start a character"));
}

TEST(CharTokenizer, TheVocabularyIsTheSortedDistinctCharacters) {
  const CharTokenizer tokenizer = CharTokenizer::from_text(decode_utf8("hello, é!", "test"));
  EXPECT_EQ(tokenizer.size(), 8);  // ' ', '!', ',', 'e', 'h', 'l', 'o', 'é'
  EXPECT_EQ(tokenizer.vocabulary(), " !,ehlo\xC3\xA9");
  EXPECT_EQ(tokenizer.encode(U"hole", "test"), (std::vector<int64_t>{4, 6, 5, 3}));
  EXPECT_EQ(tokenizer.decode({4, 7, 5, 5, 6}), "h\xC3\xA9llo");
  // The vocabulary string rebuilds the same tokenizer (the checkpoint keeps only that).
  const CharTokenizer again = CharTokenizer::from_vocabulary(tokenizer.vocabulary());
  EXPECT_EQ(again.encode(U"hole", "test"), tokenizer.encode(U"hole", "test"));
}

TEST(CharTokenizer, BadInputIsAnErrorNamingTheValueAndTheLimit) {
  const CharTokenizer tokenizer = CharTokenizer::from_text(U"abc\n");
  EXPECT_THAT(error_message([&] { tokenizer.encode(U"abz", "--prompt"); }),
              HasSubstr("--prompt: the character 'z' (U+007A) at position 2 is not in the "
                        "model's vocabulary of 4 characters"));
  EXPECT_THAT(error_message([&] { tokenizer.encode(U"a\t", "--prompt"); }),
              HasSubstr("the character U+0009 at position 1"));
  EXPECT_THAT(error_message([&] {
                tokenizer.decode({0, 4});
              }),
              HasSubstr("token 4 at position 1 is outside the vocabulary [0, 4)"));
  EXPECT_THAT(error_message([] { CharTokenizer::from_text(U""); }), HasSubstr("empty"));
  EXPECT_THAT(error_message([] { CharTokenizer::from_vocabulary("ba"); }),
              HasSubstr("not distinct and sorted"));
}

}  // namespace
}  // namespace graft::examples
