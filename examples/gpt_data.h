// graft-gpt's data: the training text (a file, or Debian's fortunes by default), its
// tokens split 90/10 into training and validation, and nanoGPT's batches: `batch_size`
// windows of block_size + 1 tokens at random offsets, the input their first block_size
// tokens and the target the same shifted by one (each position predicts the next token).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graft/core/tensor.h"

namespace graft::examples {

// The text to train on and where it came from ("fortunes" or the file's name).
struct Corpus {
  std::string source;
  std::u32string text;
};

// Where Debian's `fortunes` package puts its files.
inline constexpr const char* kFortunesFolder = "/usr/share/games/fortunes";

// The corpus files of a fortunes folder: its regular files other than the `.dat` indexes
// (the `.u8` names are symbolic links to the regular files), in name order.
std::vector<std::filesystem::path> fortune_files(const std::filesystem::path& folder);

// The file `file`, or with an empty `file` the fortune files of `fortunes_folder`
// concatenated: about 2.58 million characters, 113 distinct. A missing file or folder,
// text that is not UTF-8, a NUL character (a binary file), or no text at all is an error
// naming the file.
Corpus load_corpus(const std::string& file,
                   const std::filesystem::path& fortunes_folder = kFortunesFolder);

struct TokenSplits {
  std::vector<int64_t> train, val;
};

// The first `train_fraction` of the tokens for training and the rest for validation
// (nanoGPT's n = int(0.9 * len)). Each part must hold one window of block_size + 1 tokens,
// else an error says how many tokens the corpus has and how many it needs.
TokenSplits split_tokens(const std::vector<int64_t>& tokens, double train_fraction,
                         int64_t block_size);

struct Batch {
  Tensor x, y;  // (batch_size, block_size) int64, on `device`
};

// nanoGPT's get_batch: the offsets from graft's default random stream (graft::manual_seed
// makes them reproducible), uniform over every window that fits in `tokens`.
Batch sample_batch(const std::vector<int64_t>& tokens, int64_t batch_size, int64_t block_size,
                   Device device);

}  // namespace graft::examples
