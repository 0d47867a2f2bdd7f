// The per-step log: its row text, rows reaching the file at flush(), and a resumed run
// keeping the rows up to its checkpoint's step.
#include "step_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_files.h"

namespace graft::examples {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(StepCsv, HeaderAndRowText) {
  EXPECT_EQ(step_csv_header(), "step,lr,loss,grad_norm,images_per_s");
  EXPECT_EQ(step_csv_row({1, 1e-3, 2.3187341, 3.41295, 2051.34}),
            "1,0.001,2.318734,3.412950,2051.3");
}

TEST(StepLog, RowsReachTheFileAtFlushAndResumingKeepsTheEarlierSteps) {
  const graft::testing::TempDir dir;
  const fs::path path = dir / "steps.csv";
  {
    StepLog log(path, 0);
    for (int64_t step = 1; step <= 3; ++step) log.append({step, 0.1, 1.0, 2.0, 100.0});
    EXPECT_EQ(read_file(path), step_csv_header() + "\n");  // still in the buffer
    log.flush();
    EXPECT_EQ(read_file(path),
              step_csv_header() + "\n1,0.1,1.000000,2.000000,100.0\n" +
                  "2,0.1,1.000000,2.000000,100.0\n3,0.1,1.000000,2.000000,100.0\n");
  }
  // Resumed from a checkpoint at step 2: step 3 is done again, so its old row goes.
  {
    StepLog log(path, 2);
    log.append({3, 0.05, 0.5, 1.0, 50.0});
  }  // the destructor flushes
  EXPECT_EQ(read_file(path), step_csv_header() + "\n1,0.1,1.000000,2.000000,100.0\n" +
                                 "2,0.1,1.000000,2.000000,100.0\n3,0.05,0.500000,1.000000,50.0\n");
  StepLog fresh(path, 0);  // a new run starts over
  fresh.flush();
  EXPECT_EQ(read_file(path), step_csv_header() + "\n");
}

}  // namespace
}  // namespace graft::examples
