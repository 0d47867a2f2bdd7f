// The JSON subset under the safetensors header: what it reads, what it writes, and the
// error for every way a text can fail to be that subset.
#include "graft/io/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace json = graft::json;
using graft::testing::error_message;
using ::testing::HasSubstr;

namespace {

TEST(Json, ParsesTheShapeOfASafetensorsHeader) {
  const json::Value value =
      json::parse(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})");
  const json::Object& root = value.as_object();
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].first, "w");
  const json::Object& entry = root[0].second.as_object();
  ASSERT_EQ(entry.size(), 3u);
  EXPECT_EQ(entry[0].first, "dtype");
  EXPECT_EQ(entry[0].second.as_string(), "F32");
  EXPECT_EQ(entry[1].second, json::Value(json::Array{int64_t{2}, int64_t{3}}));
  EXPECT_EQ(entry[2].second, json::Value(json::Array{int64_t{0}, int64_t{24}}));
}

TEST(Json, AcceptsWhitespaceAroundEveryToken) {
  EXPECT_EQ(json::parse(" \n{ \"a\" :\t[ 1 , -2 ] ,\r\n\"b\":{ } , \"c\" : [ ] } \n"),
            json::Value(json::Object{{"a", json::Array{int64_t{1}, int64_t{-2}}},
                                     {"b", json::Object{}},
                                     {"c", json::Array{}}}));
}

TEST(Json, KeepsObjectKeysInFileOrderWithDuplicates) {
  // The caller rejects duplicates with a message naming them, so the parser must keep both.
  const json::Object object = json::parse(R"({"z":1,"a":2,"z":3})").as_object();
  ASSERT_EQ(object.size(), 3u);
  EXPECT_EQ(object[0].first, "z");
  EXPECT_EQ(object[1].first, "a");
  EXPECT_EQ(object[2].first, "z");
  EXPECT_EQ(object[2].second.as_integer(), 3);
}

TEST(Json, ReadsTheWholeInt64Range) {
  EXPECT_EQ(json::parse("9223372036854775807").as_integer(), INT64_MAX);
  EXPECT_EQ(json::parse("-9223372036854775808").as_integer(), INT64_MIN);
  EXPECT_EQ(json::parse("0").as_integer(), 0);
  EXPECT_EQ(json::parse("-0").as_integer(), 0);
}

TEST(Json, DecodesEveryStringEscape) {
  EXPECT_EQ(json::parse(R"("q\" b\\ s\/ \b\f\n\r\t")").as_string(), "q\" b\\ s/ \b\f\n\r\t");
  // \u escapes become UTF-8: 1, 2 and 3 bytes, and a surrogate pair (U+1F600) makes 4.
  EXPECT_EQ(json::parse(R"("\u0041\u00e9\u20AC\ud83d\ude00")").as_string(),
            "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  // Raw UTF-8 passes through untouched.
  EXPECT_EQ(json::parse("\"caf\xC3\xA9\"").as_string(), "caf\xC3\xA9");
}

TEST(Json, DumpsCompactlyAsPythonsSafetensorsDoes) {
  const json::Value value =
      json::Object{{"__metadata__", json::Object{{"format", "pt"}}},
                   {"w", json::Object{{"dtype", "F32"},
                                      {"shape", json::Array{int64_t{2}, int64_t{3}}},
                                      {"data_offsets", json::Array{int64_t{0}, int64_t{24}}}}},
                   {"empty", json::Array{}},
                   {"neg", int64_t{-9223372036854775807 - 1}}};
  EXPECT_EQ(json::dump(value),
            R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],)"
            R"("data_offsets":[0,24]},"empty":[],"neg":-9223372036854775808})");
}

TEST(Json, DumpEscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json::dump(std::string("a\"b\\c\nd\te\x01\x1f caf\xC3\xA9")),
            "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f caf\xC3\xA9\"");
}

TEST(Json, DumpThenParseGivesTheSameValue) {
  const json::Value value = json::Object{
      {"text", std::string("every byte \x01\x7f\"\\/\b\f\n\r\t\xC3\xA9")},
      {"numbers", json::Array{int64_t{0}, int64_t{-1}, int64_t{INT64_MAX}, int64_t{INT64_MIN}}},
      {"nested", json::Array{json::Object{{"k", json::Array{json::Array{}}}}}}};
  EXPECT_EQ(json::parse(json::dump(value)), value);
}

TEST(Json, AccessorsNameTheKindActuallyHeld) {
  EXPECT_THAT(error_message([] { json::parse("[1]").as_object(); }),
              HasSubstr("expected an object, got an array"));
  EXPECT_THAT(error_message([] { json::parse("\"x\"").as_integer(); }),
              HasSubstr("expected an integer, got a string"));
}

TEST(Json, RejectsWhatIsNotTheSubsetWithTheOffsetAndTheProblem) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"", "at byte 0: the text ends where a value was expected"},
      {"   ", "the text ends where a value was expected"},
      {"{\"a\":1} x", "at byte 8: unexpected 'x' after the end of the JSON value"},
      {"{\"a\" 1}", "expected ':' after an object key, got '1'"},
      {"{\"a\":1 \"b\":2}", "expected ',' between the members of an object, got '\"'"},
      {"{\"a\":1,}", "expected a string key in an object"},
      {"{a:1}", "expected a string key in an object"},
      {"{\"a\":1", "the text ends inside an object (missing '}')"},
      {"[1,2", "the text ends inside an array (missing ']')"},
      {"[1 2]", "expected ',' between the elements of an array, got '2'"},
      {"[1,]", "unexpected ']' where a value was expected"},
      {"\"abc", "the text ends inside a string (missing '\"')"},
      {"\"a\nb\"", "a control character (byte 10) inside a string must be escaped"},
      {"\"\\x\"", "unknown escape '\\x'"},
      {"\"\\u12G4\"", "expected a hex digit in a \\u escape, got 'G'"},
      {"\"\\u12", "the text ends inside a \\u escape"},
      {"\"\\ud83d\"", "a high surrogate \\u escape must be followed by a low one"},
      {"\"\\ud83d\\u0041\"", "a high surrogate \\u escape must be followed by a low one"},
      {"\"\\ude00\"", "a low surrogate \\u escape without a high one"},
      {"01", "numbers may not have leading zeros"},
      {"-", "expected a digit"},
      {"1.5", "numbers with a fraction or an exponent are not supported"},
      {"1e3", "numbers with a fraction or an exponent are not supported"},
      {"9223372036854775808", "the integer does not fit in 64 bits"},
      {"-9223372036854775809", "the integer does not fit in 64 bits"},
      {"99999999999999999999", "the integer does not fit in 64 bits"},
      {"true", "true, false and null are not supported"},
      {"null", "unexpected 'n' where a value was expected"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string message = error_message([&] { json::parse(c.text); });
    EXPECT_THAT(message, HasSubstr("invalid JSON at byte "));
    EXPECT_THAT(message, HasSubstr(c.message));
  }
}

TEST(Json, BoundsNestingSoDeepInputCannotOverflowTheStack) {
  const int depth = json::Limits{}.max_depth;
  EXPECT_NO_THROW(json::parse(std::string(depth, '[') + std::string(depth, ']')));
  EXPECT_THAT(error_message([] { json::parse(std::string(1'000'000, '[')); }),
              HasSubstr("values are nested more than 32 deep"));
}

// A long array of zeros is what a fuzzer found: 2 bytes of text per value, about 45 bytes of
// tree, so the count must stop it while parsing, at the value that goes over.
TEST(Json, CountsValuesAndKeysWhileParsing) {
  std::string zeros = "[0";
  for (int i = 1; i < 10; ++i) zeros += ",0";
  zeros += "]";
  EXPECT_NO_THROW(json::parse(zeros, {.max_values = 11}));
  const std::string message = error_message([&] { json::parse(zeros, {.max_values = 10}); });
  EXPECT_THAT(message, HasSubstr("more than 10 values and keys, the most a parse accepts"));
  EXPECT_THAT(message, HasSubstr("invalid JSON at byte 19"));  // the tenth zero: value 11
  // Keys count too: {"a":1,"b":2} is 1 object + 2 keys + 2 values.
  EXPECT_NO_THROW(json::parse(R"({"a":1,"b":2})", {.max_values = 5}));
  EXPECT_THROW(json::parse(R"({"a":1,"b":2})", {.max_values = 4}), graft::Error);

  // The default refuses a header of 20 MB of zeros after a million values, not the whole
  // ten million.
  std::string huge(20'000'001, ',');
  huge.front() = '[';
  for (size_t i = 1; i < huge.size(); i += 2) huge[i] = '0';
  huge.back() = ']';
  EXPECT_THAT(error_message([&] { json::parse(huge); }),
              HasSubstr("more than 1000000 values and keys"));
}

}  // namespace
