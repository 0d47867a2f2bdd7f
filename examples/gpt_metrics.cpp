// graft-gpt's metrics.csv and loss.svg (see gpt_metrics.h).
#include "gpt_metrics.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "graft/io/file_io.h"
#include "metrics.h"
#include "svg_plot.h"

namespace graft::examples {
namespace {

constexpr const char* kHeader = "iter,wall_time_s,lr,train_loss,val_loss,ms_per_iter";

}  // namespace

void write_gpt_metrics_csv(const std::filesystem::path& path, const std::vector<GptMetrics>& rows) {
  std::string text = std::string(kHeader) + "\n";
  for (const GptMetrics& m : rows) {
    char line[256];
    std::snprintf(line, sizeof line, "%lld,%.2f,%.6g,%.5f,%.5f,%.2f\n",
                  static_cast<long long>(m.iter), m.wall_time_s, m.lr, m.train_loss, m.val_loss,
                  m.ms_per_iter);
    text += line;
  }
  write_text_file("write_gpt_metrics_csv()", path, text);
}

std::vector<GptMetrics> read_gpt_metrics_csv(const std::filesystem::path& path) {
  const io::FileContext context{"read_gpt_metrics_csv()", path};
  std::vector<GptMetrics> rows;
  std::ifstream file(path);
  if (!file.is_open()) return rows;
  std::string line;
  context.check(std::getline(file, line) && line == kHeader, "the first line is not the header '",
                kHeader, "'");
  for (int line_number = 2; std::getline(file, line); ++line_number) {
    if (line.empty()) continue;
    GptMetrics m;
    long long iter = 0;
    char end = 0;
    const int fields =
        std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf,%lf,%lf%c", &iter, &m.wall_time_s, &m.lr,
                    &m.train_loss, &m.val_loss, &m.ms_per_iter, &end);
    context.check(fields == 6, "line ", line_number, " '", line,
                  "' is not 6 comma-separated numbers");
    m.iter = iter;
    rows.push_back(m);
  }
  return rows;
}

void write_gpt_loss_svg(const std::filesystem::path& path, const std::vector<GptMetrics>& rows) {
  Series train{"train", "#1f77b4", {}}, val{"val", "#d62728", {}};
  for (const GptMetrics& m : rows) {
    train.points.emplace_back(static_cast<double>(m.iter), m.train_loss);
    val.points.emplace_back(static_cast<double>(m.iter), m.val_loss);
  }
  write_text_file("write_gpt_loss_svg()", path,
                  render_svg({Chart{"loss", "iteration", "cross-entropy", {train, val}}}));
}

}  // namespace graft::examples
