// OUT/steps.csv: one row per optimizer step, for the curves an epoch row hides (a loss
// spike, the warmup, the effect of clipping).
//
//   step,lr,loss,grad_norm,images_per_s
//   1,0.001,2.318734,3.412950,2051.3
//
// grad_norm is the global 2-norm of the gradients before clipping; lr is the one the step
// used. Rows go through a 64 KiB stdio buffer and reach the file when it fills, at flush()
// (graft-train calls it after every epoch and when it stops) and on destruction, so a
// step costs one snprintf and a memcpy. A resumed run keeps the rows up to its
// checkpoint's step and appends after them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace graft::examples {

struct StepRow {
  int64_t step = 0;  // 1-based: the steps completed
  double lr = 0, loss = 0, grad_norm = 0, images_per_s = 0;
};

std::string step_csv_header();
std::string step_csv_row(const StepRow& row);

class StepLog {
 public:
  // Opens `path`, keeping the rows of steps <= keep_through (0: a new file).
  StepLog(const std::filesystem::path& path, int64_t keep_through);
  ~StepLog();
  StepLog(const StepLog&) = delete;
  StepLog& operator=(const StepLog&) = delete;

  void append(const StepRow& row);
  void flush();

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

}  // namespace graft::examples
