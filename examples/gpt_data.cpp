// graft-gpt's corpus, splits and batches (see gpt_data.h).
#include "gpt_data.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "char_tokenizer.h"
#include "graft/autograd/ops.h"
#include "graft/core/error.h"

namespace graft::examples {
namespace fs = std::filesystem;
namespace {

std::string read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  GRAFT_CHECK(file.is_open(), "graft-gpt: cannot open ", path);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  GRAFT_CHECK(!file.bad(), "graft-gpt: cannot read ", path);
  return std::move(bytes).str();
}

// The text of one file, checked: UTF-8, and no NUL character (which text never holds and
// nearly every binary file does).
std::u32string read_text(const fs::path& path) {
  GRAFT_CHECK(fs::is_regular_file(path), "graft-gpt: ", path, " is not a file");
  std::u32string text = decode_utf8(read_bytes(path), "graft-gpt: " + path.string());
  const size_t nul = text.find(U'\0');
  GRAFT_CHECK(nul == std::u32string::npos, "graft-gpt: ", path,
              " is not text: it holds a NUL character at character ", nul,
              " (a binary file?); --data takes a UTF-8 text file");
  return text;
}

}  // namespace

std::vector<fs::path> fortune_files(const fs::path& folder) {
  GRAFT_CHECK(fs::is_directory(folder), "graft-gpt: the default corpus is Debian's fortunes, but ",
              folder,
              " is not there; install it (apt-get install fortunes, as the README's set-up "
              "does) or give a text file with --data FILE");
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    // symlink_status: the .u8 links are skipped, not followed to the files they name.
    if (!fs::is_regular_file(entry.symlink_status())) continue;
    if (entry.path().extension() == ".dat") continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  GRAFT_CHECK(!files.empty(), "graft-gpt: ", folder, " holds no fortune files");
  return files;
}

Corpus load_corpus(const std::string& file, const fs::path& fortunes_folder) {
  Corpus corpus;
  if (file.empty()) {
    corpus.source = "fortunes";
    for (const fs::path& path : fortune_files(fortunes_folder)) corpus.text += read_text(path);
  } else {
    corpus.source = file;
    corpus.text = read_text(file);
  }
  GRAFT_CHECK(!corpus.text.empty(), "graft-gpt: the corpus ", corpus.source,
              " is empty; it needs text to learn from");
  return corpus;
}

TokenSplits split_tokens(const std::vector<int64_t>& tokens, double train_fraction,
                         int64_t block_size) {
  const auto train_part = [&](int64_t n) {
    return static_cast<int64_t>(train_fraction * static_cast<double>(n));
  };
  const auto count = static_cast<int64_t>(tokens.size());
  const int64_t train_count = train_part(count), val_count = count - train_count;
  const int64_t needed = block_size + 1;
  if (train_count < needed || val_count < needed) {
    int64_t enough = needed;  // the shortest corpus whose two parts both hold a window
    while (train_part(enough) < needed || enough - train_part(enough) < needed) ++enough;
    detail::fail("graft-gpt: the corpus has ", count, " characters: ", train_count,
                 " for training and ", val_count, " for validation; with a context of ", block_size,
                 " tokens each part needs at least ", needed, " (a corpus of at least ", enough,
                 " characters)");
  }
  return {.train = {tokens.begin(), tokens.begin() + train_count},
          .val = {tokens.begin() + train_count, tokens.end()}};
}

Batch sample_batch(const std::vector<int64_t>& tokens, int64_t batch_size, int64_t block_size,
                   Device device) {
  const auto windows = static_cast<int64_t>(tokens.size()) - block_size;
  GRAFT_CHECK(windows >= 1, "sample_batch(): ", tokens.size(),
              " tokens hold no window of block_size + 1 = ", block_size + 1);
  const std::vector<int64_t> offsets =
      randint(0, windows, {batch_size}, TensorOptions(kInt64)).to_vector<int64_t>();
  Tensor x = empty({batch_size, block_size}, kInt64), y = empty({batch_size, block_size}, kInt64);
  int64_t* xs = x.data_ptr<int64_t>();
  int64_t* ys = y.data_ptr<int64_t>();
  for (int64_t b = 0; b < batch_size; ++b) {
    const auto window = tokens.begin() + offsets[static_cast<size_t>(b)];
    std::copy(window, window + block_size, xs + b * block_size);
    std::copy(window + 1, window + block_size + 1, ys + b * block_size);
  }
  return {.x = x.to(device), .y = y.to(device)};
}

}  // namespace graft::examples
