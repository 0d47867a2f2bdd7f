// graft-gpt's measurements: the rows of OUT/metrics.csv, one per evaluation, and the loss
// curves drawn from them (OUT/loss.svg).
//
//   iter,wall_time_s,lr,train_loss,val_loss,ms_per_iter
//   250,21.40,0.000976,2.01234,2.05120,79.81
//
// The losses are means over --eval-iters random batches of each split, measured in eval
// mode without gradients (nanoGPT's estimate_loss); ms_per_iter is the mean training
// iteration since the previous row, evaluations left out (NaN in the row of iteration 0).
// As metrics.csv of graft-train, the file is rewritten whole, atomically, and a resumed
// run reads back the rows up to its checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace graft::examples {

struct GptMetrics {
  int64_t iter = 0;  // iterations completed when measured
  double wall_time_s = 0;
  double lr = 0;  // the lr of the last iteration
  double train_loss = 0;
  double val_loss = 0;
  double ms_per_iter = 0;
};

void write_gpt_metrics_csv(const std::filesystem::path& path, const std::vector<GptMetrics>& rows);
// A missing file reads as no rows; a malformed one is an error naming the line.
std::vector<GptMetrics> read_gpt_metrics_csv(const std::filesystem::path& path);
// The train and validation loss against the iteration, as an SVG file, atomically.
void write_gpt_loss_svg(const std::filesystem::path& path, const std::vector<GptMetrics>& rows);

}  // namespace graft::examples
