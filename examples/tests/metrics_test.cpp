// The metrics CSV: its exact text, a round trip, resumable reading, malformed files, and
// the curves built from the rows.
#include "metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "temp_dir_test.h"
#include "test_util.h"

namespace graft::examples {
namespace {

namespace fs = std::filesystem;
using graft::testing::error_message;
using ::testing::HasSubstr;

class MetricsTest : public TempDirTest {};

const EpochMetrics kFirst{1, 938, 41.724, 0.512341, 0.41020, 0.85214, 1512.34};
const EpochMetrics kSecond{2, 1876, 83.5, 0.35, 0.37, 0.8712, 1498.0};

TEST(MetricsCsv, HeaderAndRowText) {
  EXPECT_EQ(metrics_csv_header(),
            "epoch,step,wall_time_s,train_loss,val_loss,val_accuracy,images_per_s");
  EXPECT_EQ(metrics_csv_row(kFirst), "1,938,41.72,0.51234,0.41020,0.8521,1512.3");
}

TEST_F(MetricsTest, RoundTripAtThePrintedPrecision) {
  const fs::path path = dir_ / "metrics.csv";
  write_metrics_csv(path, {kFirst, kSecond});
  const std::vector<EpochMetrics> rows = read_metrics_csv(path);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].epoch, 1);
  EXPECT_EQ(rows[0].step, 938);
  EXPECT_DOUBLE_EQ(rows[0].wall_time_s, 41.72);
  EXPECT_DOUBLE_EQ(rows[0].train_loss, 0.51234);
  EXPECT_DOUBLE_EQ(rows[0].val_accuracy, 0.8521);
  EXPECT_EQ(rows[1].step, 1876);
  EXPECT_DOUBLE_EQ(rows[1].images_per_s, 1498.0);
}

TEST_F(MetricsTest, RewritingReplacesTheWholeFile) {
  const fs::path path = dir_ / "metrics.csv";
  write_metrics_csv(path, {kFirst, kSecond});
  write_metrics_csv(path, {kFirst});
  EXPECT_EQ(read_metrics_csv(path).size(), 1u);
}

TEST_F(MetricsTest, MissingFileReadsAsNoRows) {
  EXPECT_TRUE(read_metrics_csv(dir_ / "none.csv").empty());
}

TEST_F(MetricsTest, MalformedFilesAreErrorsNamingTheLine) {
  const fs::path path = dir_ / "bad.csv";
  std::ofstream(path) << "epoch,loss\n1,2\n";
  EXPECT_THAT(error_message([&] { read_metrics_csv(path); }),
              HasSubstr("the first line is not the header 'epoch,step,"));
  std::ofstream(path) << metrics_csv_header() << "\n" << metrics_csv_row(kFirst) << "\n1,2,3\n";
  EXPECT_THAT(error_message([&] { read_metrics_csv(path); }),
              HasSubstr("line 3 '1,2,3' is not 7 comma-separated numbers"));
  std::ofstream(path) << metrics_csv_header() << "\n" << metrics_csv_row(kFirst) << ",9\n";
  EXPECT_THAT(error_message([&] { read_metrics_csv(path); }), HasSubstr("line 2"));
}

TEST(TrainingCharts, LossAndAccuracyPerEpoch) {
  const std::vector<Chart> charts = training_charts({kFirst, kSecond});
  ASSERT_EQ(charts.size(), 2u);
  ASSERT_EQ(charts[0].series.size(), 2u);
  EXPECT_EQ(charts[0].series[0].label, "train");
  EXPECT_EQ(charts[0].series[0].points, (std::vector<std::pair<double, double>>{
                                            {1, kFirst.train_loss}, {2, kSecond.train_loss}}));
  EXPECT_EQ(charts[0].series[1].points[1], (std::pair<double, double>{2, kSecond.val_loss}));
  EXPECT_EQ(charts[1].series.at(0).points[0], (std::pair<double, double>{1, kFirst.val_accuracy}));
}

TEST(TrainingCharts, ARunWithoutValidationHasNoValidationPoints) {
  EpochMetrics no_val = kFirst;
  no_val.val_loss = no_val.val_accuracy = std::nan("");
  EXPECT_EQ(metrics_csv_row(no_val), "1,938,41.72,0.51234,nan,nan,1512.3");
  const std::vector<Chart> charts = training_charts({no_val});
  EXPECT_EQ(charts[0].series[0].points.size(), 1u);
  EXPECT_TRUE(charts[0].series[1].points.empty());
  EXPECT_TRUE(charts[1].series[0].points.empty());
}

TEST_F(MetricsTest, TestCsvIsOneRow) {
  write_test_csv(dir_ / "test.csv", 4220, 0.330123, 0.88123);
  std::ifstream in(dir_ / "test.csv");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "step,test_loss,test_accuracy\n4220,0.33012,0.8812\n");
}

TEST_F(MetricsTest, CurvesFileHoldsEveryPoint) {
  const fs::path path = dir_ / "curves.svg";
  write_curves_svg(path, {kFirst, kSecond});
  std::ifstream in(path);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(svg, HasSubstr("<title>train 1: 0.512341</title>"));
  EXPECT_THAT(svg, HasSubstr("<title>val 2: 0.8712</title>"));
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
}

}  // namespace
}  // namespace graft::examples
