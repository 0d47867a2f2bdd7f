// The per-step log (see step_log.h).
#include "step_log.h"

#include <fstream>

#include "graft/core/error.h"
#include "graft/io/file_io.h"

namespace graft::examples {
namespace {

constexpr size_t kBufferBytes = 64 * 1024;

// The header and the rows of an existing log up to step `keep_through`; a row that does not
// start with a step number ends the kept part (a line cut short by a killed run).
std::string kept_rows(const std::filesystem::path& path, int64_t keep_through) {
  std::string text = step_csv_header() + "\n";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return text;
  while (std::getline(in, line)) {
    long long step = 0;
    if (std::sscanf(line.c_str(), "%lld,", &step) != 1 || step > keep_through) break;
    text += line + "\n";
  }
  return text;
}

}  // namespace

std::string step_csv_header() { return "step,lr,loss,grad_norm,images_per_s"; }

std::string step_csv_row(const StepRow& row) {
  char line[160];
  std::snprintf(line, sizeof line, "%lld,%.8g,%.6f,%.6f,%.1f", static_cast<long long>(row.step),
                row.lr, row.loss, row.grad_norm, row.images_per_s);
  return line;
}

StepLog::StepLog(const std::filesystem::path& path, int64_t keep_through) : path_(path) {
  const std::string start =
      keep_through > 0 ? kept_rows(path, keep_through) : step_csv_header() + "\n";
  io::AtomicFileWriter writer({"StepLog", path});
  writer.write(start.data(), start.size());
  writer.commit();
  file_ = std::fopen(path.c_str(), "a");
  GRAFT_CHECK(file_ != nullptr, "StepLog: cannot open ", path, " to append");
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
}

StepLog::~StepLog() { std::fclose(file_); }

void StepLog::append(const StepRow& row) {
  const std::string line = step_csv_row(row) + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
}

void StepLog::flush() {
  GRAFT_CHECK(std::fflush(file_) == 0, "StepLog: writing ", path_, " failed");
}

}  // namespace graft::examples
