// graft-gpt's data: which fortune files make the corpus, the checks on a --data file, the
// 90/10 split and its limits, and nanoGPT's batches (the target is the input shifted by
// one, every window can be drawn, a seed repeats them).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "gpt_data.h"
#include "graft/graft.h"
#include "temp_dir_test.h"
#include "test_util.h"

namespace graft::examples {
namespace {

namespace fs = std::filesystem;
using testing::error_message;
using ::testing::HasSubstr;

class GptData : public TempDirTest {
 protected:
  fs::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
};

TEST_F(GptData, TheFortuneCorpusIsTheRegularFilesInNameOrder) {
  write("zen", "Z\n%\n");
  write("art", "A\n%\n");
  write("art.dat", std::string("\0\0\0\2", 4));  // an index, not text
  fs::create_symlink("art", dir_ / "art.u8");    // Debian's UTF-8 alias of the same file
  const std::vector<fs::path> files = fortune_files(dir_);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "art");
  EXPECT_EQ(files[1].filename(), "zen");
  const Corpus corpus = load_corpus("", dir_);
  EXPECT_EQ(corpus.source, "fortunes");
  EXPECT_EQ(corpus.text, U"A\n%\nZ\n%\n");
  EXPECT_THAT(error_message([&] { fortune_files(dir_ / "none"); }),
              HasSubstr("apt-get install fortunes"));
}

TEST_F(GptData, ADataFileMustBeUtf8Text) {
  EXPECT_EQ(load_corpus(write("ok.txt", "d\xC3\xA9j\xC3\xA0 vu\n").string()).text, U"déjà vu\n");
  EXPECT_THAT(error_message([&] { load_corpus(write("bin", std::string("ab\0c", 4)).string()); }),
              HasSubstr("is not text: it holds a NUL character at character 2"));
  EXPECT_THAT(error_message([&] { load_corpus(write("latin1.txt", "caf\xE9\n").string()); }),
              HasSubstr("is not UTF-8 text"));
  EXPECT_THAT(error_message([&] { load_corpus(write("empty.txt", "").string()); }),
              HasSubstr("is empty"));
  EXPECT_THAT(error_message([&] { load_corpus((dir_ / "missing.txt").string()); }),
              HasSubstr("is not a file"));
}

TEST_F(GptData, TheSplitIsNinetyTenAndEachPartHoldsAWindow) {
  std::vector<int64_t> tokens(100);
  for (int64_t i = 0; i < 100; ++i) tokens[static_cast<size_t>(i)] = i;
  const TokenSplits splits = split_tokens(tokens, 0.9, 8);
  EXPECT_EQ(splits.train.size(), 90u);
  EXPECT_EQ(splits.val.size(), 10u);
  EXPECT_EQ(splits.val.front(), 90);
  EXPECT_THAT(error_message([&] { split_tokens(tokens, 0.9, 10); }),
              HasSubstr("the corpus has 100 characters: 90 for training and 10 for validation; "
                        "with a context of 10 tokens each part needs at least 11 (a corpus of "
                        "at least 101 characters)"));
}

TEST_F(GptData, ABatchIsRandomWindowsAndTheirNextTokens) {
  std::vector<int64_t> tokens(50);
  for (int64_t i = 0; i < 50; ++i) tokens[static_cast<size_t>(i)] = i;
  manual_seed(4);
  const Batch batch = sample_batch(tokens, 64, 5, Device::cpu());
  ASSERT_EQ(batch.x.shape(), (Shape{64, 5}));
  ASSERT_EQ(batch.y.shape(), (Shape{64, 5}));
  EXPECT_TRUE(equal(batch.y, batch.x + 1));  // here token i is i: the next one is i + 1
  std::set<int64_t> starts;
  for (int64_t b = 0; b < 64; ++b) {
    const int64_t start = batch.x[b][0].item<int64_t>();
    EXPECT_TRUE(equal(batch.x[b], arange(start, start + 5, 1, kInt64)));
    EXPECT_LE(start + 5, 49);  // the target's last token exists
    starts.insert(start);
  }
  EXPECT_GT(starts.size(), 20u);  // 45 windows, 64 draws
  manual_seed(4);
  EXPECT_TRUE(equal(sample_batch(tokens, 64, 5, Device::cpu()).x, batch.x));
}

}  // namespace
}  // namespace graft::examples
