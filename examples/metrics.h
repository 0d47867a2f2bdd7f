// graft-train's per-epoch figures: the rows of OUT/metrics.csv and the curves drawn from
// them (OUT/curves.svg).
//
//   epoch,step,wall_time_s,train_loss,test_loss,test_accuracy,images_per_s
//   1,938,41.72,0.51234,0.41020,0.8521,1512.3
//
// The file is rewritten whole after each epoch (atomically), not appended to: a resumed run
// reads the rows up to its checkpoint's epoch back and carries on from them, so rows of a
// run that went further before being resumed from an older checkpoint do not linger.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "svg_plot.h"

namespace graft::examples {

struct EpochMetrics {
  int64_t epoch = 0;         // 1-based: the epochs completed
  int64_t step = 0;          // optimizer steps completed
  double wall_time_s = 0;    // training + evaluation time of the run so far (resumes add up)
  double train_loss = 0;     // mean over the epoch's training examples
  double test_loss = 0;      // mean over the test set
  double test_accuracy = 0;  // fraction of the test set classified right
  double images_per_s = 0;   // training throughput of the epoch
};

// The header line and one row, without the newline.
std::string metrics_csv_header();
std::string metrics_csv_row(const EpochMetrics& m);

// Writes the header and the rows to `path`, atomically.
void write_metrics_csv(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows);
// Reads a file written by write_metrics_csv; a missing file reads as no rows, a malformed
// one is an error naming the line.
std::vector<EpochMetrics> read_metrics_csv(const std::filesystem::path& path);

// Two charts: train and test loss per epoch, and test accuracy per epoch.
std::vector<Chart> training_charts(const std::vector<EpochMetrics>& rows);
// Writes training_charts(rows) as an SVG file, atomically.
void write_curves_svg(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows);

}  // namespace graft::examples
