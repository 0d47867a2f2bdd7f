// Metrics CSV rows and the training curves (see metrics.h).
#include "metrics.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "graft/core/error.h"
#include "graft/io/file_io.h"

namespace graft::examples {
void write_text_file(const char* op, const std::filesystem::path& path, const std::string& text) {
  io::AtomicFileWriter writer({op, path});
  writer.write(text.data(), text.size());
  writer.commit();
}

std::string metrics_csv_header() {
  return "epoch,step,wall_time_s,train_loss,val_loss,val_accuracy,images_per_s";
}

std::string metrics_csv_row(const EpochMetrics& m) {
  char line[256];
  std::snprintf(line, sizeof line, "%lld,%lld,%.2f,%.5f,%.5f,%.4f,%.1f",
                static_cast<long long>(m.epoch), static_cast<long long>(m.step), m.wall_time_s,
                m.train_loss, m.val_loss, m.val_accuracy, m.images_per_s);
  return line;
}

void write_metrics_csv(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows) {
  std::string text = metrics_csv_header() + "\n";
  for (const EpochMetrics& m : rows) text += metrics_csv_row(m) + "\n";
  write_text_file("write_metrics_csv()", path, text);
}

std::vector<EpochMetrics> read_metrics_csv(const std::filesystem::path& path) {
  const io::FileContext context{"read_metrics_csv()", path};
  std::vector<EpochMetrics> rows;
  std::ifstream file(path);
  if (!file.is_open()) return rows;
  std::string line;
  context.check(std::getline(file, line) && line == metrics_csv_header(),
                "the first line is not the header '", metrics_csv_header(), "'");
  for (int line_number = 2; std::getline(file, line); ++line_number) {
    if (line.empty()) continue;
    EpochMetrics m;
    long long epoch = 0, step = 0;
    char end = 0;
    const int fields =
        std::sscanf(line.c_str(), "%lld,%lld,%lf,%lf,%lf,%lf,%lf%c", &epoch, &step, &m.wall_time_s,
                    &m.train_loss, &m.val_loss, &m.val_accuracy, &m.images_per_s, &end);
    context.check(fields == 7, "line ", line_number, " '", line,
                  "' is not 7 comma-separated numbers");
    m.epoch = epoch;
    m.step = step;
    rows.push_back(m);
  }
  return rows;
}

void write_test_csv(const std::filesystem::path& path, int64_t step, double loss, double accuracy) {
  char text[128];
  std::snprintf(text, sizeof text, "step,test_loss,test_accuracy\n%lld,%.5f,%.4f\n",
                static_cast<long long>(step), loss, accuracy);
  write_text_file("write_test_csv()", path, text);
}

std::vector<Chart> training_charts(const std::vector<EpochMetrics>& rows) {
  Series train{"train", "#1f77b4", {}}, val{"val", "#d62728", {}}, accuracy{"val", "#2ca02c", {}};
  for (const EpochMetrics& m : rows) {
    const auto epoch = static_cast<double>(m.epoch);
    train.points.emplace_back(epoch, m.train_loss);
    if (std::isnan(m.val_loss)) continue;
    val.points.emplace_back(epoch, m.val_loss);
    accuracy.points.emplace_back(epoch, m.val_accuracy);
  }
  return {Chart{"loss", "epoch", "cross-entropy", {train, val}},
          Chart{"accuracy", "epoch", "validation accuracy", {accuracy}}};
}

void write_curves_svg(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows) {
  write_text_file("write_curves_svg()", path, render_svg(training_charts(rows)));
}

}  // namespace graft::examples
