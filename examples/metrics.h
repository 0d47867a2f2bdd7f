// graft-train's per-epoch figures: the rows of OUT/metrics.csv and the curves drawn from
// them (OUT/curves.svg).
//
//   epoch,step,wall_time_s,train_loss,val_loss,val_accuracy,images_per_s
//   1,844,41.72,0.51234,0.41020,0.8521,1512.3
//
// The validation columns read "nan" in a run without a validation split (--val-fraction 0).
// The test set is measured once, at the end of the run, into OUT/test.csv (write_test_csv).
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
  int64_t epoch = 0;        // 1-based: the epochs completed
  int64_t step = 0;         // optimizer steps completed
  double wall_time_s = 0;   // training + evaluation time of the run so far (resumes add up)
  double train_loss = 0;    // mean over the epoch's training examples
  double val_loss = 0;      // mean over the validation split (NaN: no split)
  double val_accuracy = 0;  // fraction of the validation split classified right
  double images_per_s = 0;  // training throughput of the epoch
};

// Writes `text` to `path` atomically: a reader sees the previous version whole or this one
// whole, never a half. `op` names the writer in errors ("write_metrics_csv()").
void write_text_file(const char* op, const std::filesystem::path& path, const std::string& text);

// The header line and one row, without the newline.
std::string metrics_csv_header();
std::string metrics_csv_row(const EpochMetrics& m);

// Writes the header and the rows to `path`, atomically.
void write_metrics_csv(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows);
// Reads a file written by write_metrics_csv; a missing file reads as no rows, a malformed
// one is an error naming the line.
std::vector<EpochMetrics> read_metrics_csv(const std::filesystem::path& path);

// The one-row OUT/test.csv of a finished run, atomically:
//   step,test_loss,test_accuracy
//   4220,0.33012,0.8812
void write_test_csv(const std::filesystem::path& path, int64_t step, double loss, double accuracy);

// Two charts: train and validation loss per epoch, and validation accuracy per epoch
// (NaN points, a run without validation, are left out).
std::vector<Chart> training_charts(const std::vector<EpochMetrics>& rows);
// Writes training_charts(rows) as an SVG file, atomically.
void write_curves_svg(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows);

}  // namespace graft::examples
