// PGM files: a round trip, the header forms other writers produce (comments, odd
// whitespace, a smaller maxval), and an error naming the problem for each bad file.
#include "pgm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir_test.h"
#include "test_util.h"

namespace graft::examples {
namespace {

namespace fs = std::filesystem;
using graft::testing::error_message;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PgmTest : public TempDirTest {
 protected:
  // Writes `bytes` as a file and returns its path.
  fs::path file(const std::string& bytes) {
    const fs::path path = dir_ / "image.pgm";
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
};

TEST_F(PgmTest, RoundTripKeepsEveryPixel) {
  GrayImage image{2, 3, {0, 1, 127, 128, 254, 255}};
  const fs::path path = dir_ / "out.pgm";
  write_pgm(path, image);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.substr(0, 11), "P5\n3 2\n255\n");  // width before height
  EXPECT_EQ(bytes.size(), 11u + 6u);
  const GrayImage back = read_pgm(path);
  EXPECT_EQ(back.height, 2);
  EXPECT_EQ(back.width, 3);
  EXPECT_EQ(back.pixels, image.pixels);
}

TEST_F(PgmTest, ReadsCommentsAndAnyWhitespaceInTheHeader) {
  const GrayImage image = read_pgm(file("P5 # made by hand\n2\t# width\n\n1\r\n255\n\x07\xff"));
  EXPECT_EQ(image.width, 2);
  EXPECT_EQ(image.height, 1);
  EXPECT_THAT(image.pixels, ElementsAre(7, 255));
}

TEST_F(PgmTest, RescalesASmallerMaxvalTo255) {
  // maxval 15 (4-bit): 0 -> 0, 15 -> 255, 7 -> round(7 * 255 / 15) = 119.
  const GrayImage image = read_pgm(file(std::string("P5 3 1 15\n") + '\0' + '\x07' + '\x0f'));
  EXPECT_THAT(image.pixels, ElementsAre(0, 119, 255));
}

TEST_F(PgmTest, IgnoresBytesAfterThePixels) {
  EXPECT_THAT(read_pgm(file("P5 1 1 255\nAtrailing")).pixels, ElementsAre('A'));
}

TEST_F(PgmTest, BadFilesAreErrorsThatSayWhy) {
  EXPECT_THAT(error_message([&] { read_pgm(dir_ / "missing.pgm"); }),
              HasSubstr("read_pgm(): \"" + (dir_ / "missing.pgm").string() + "\": cannot open"));
  EXPECT_THAT(error_message([&] { read_pgm(file("\x89PNG\r\n")); }),
              HasSubstr("not a Netpbm image"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P2 1 1 255\n7")); }),
              HasSubstr("a P2 file; only binary greyscale PGM (P5) is read"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 2")); }),
              HasSubstr("the header ends before the height (truncated file?)"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 2 x 255\n")); }),
              HasSubstr("expected the height as a decimal number, found 'x'"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 0 1 255\n")); }),
              HasSubstr("the image is 0x1 (width x height); both must be positive"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 99999999999 1 255\n")); }),
              HasSubstr("the width is larger than 65536"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 1 1 65535\n\0\0")); }),
              HasSubstr("maxval is 65535; only 8-bit PGM (maxval 1..255) is read"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 1 1 255")); }),
              HasSubstr("expected one whitespace byte after maxval"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 2 2 255\n\x01\x02\x03")); }),
              HasSubstr("truncated: a 2x2 image needs 4 pixel bytes, the file holds 3"));
  EXPECT_THAT(error_message([&] { read_pgm(file("P5 1 1 15\n\x10")); }),
              HasSubstr("pixel 0 is 16, above maxval 15"));
}

TEST_F(PgmTest, WritingAnInconsistentImageIsAnError) {
  EXPECT_THAT(error_message([&] {
                write_pgm(dir_ / "a.pgm", {2, 2, {1, 2, 3}});
              }),
              HasSubstr("write_pgm(): \"" + (dir_ / "a.pgm").string() +
                        "\": the image holds 3 pixels but is 2x2 (4 pixels)"));
  EXPECT_THAT(error_message([&] {
                write_pgm(dir_ / "a.pgm", {0, 2, {}});
              }),
              HasSubstr("the image is 0x2; both sides must be positive"));
  EXPECT_FALSE(fs::exists(dir_ / "a.pgm"));
}

}  // namespace
}  // namespace graft::examples
