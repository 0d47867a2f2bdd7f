// OpContext (core/op_context.h): errors raised below an op, out of memory above all, name
// the op the program called and the ops under it, and out-of-memory errors have their own
// type, so a program can catch them and retry smaller.
#include "graft/core/op_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "graft/core/allocator.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using ::testing::HasSubstr;

namespace {

TEST(OpContext, NamesTheChainOutermostFirst) {
  EXPECT_EQ(g::OpContext::describe("empty"), "empty(): ");
  {
    const g::OpContext outer("linear");
    EXPECT_EQ(g::OpContext::describe("empty"), "linear(): ");
    {
      const g::OpContext inner("matmul");
      EXPECT_EQ(g::OpContext::describe("empty"), "linear() -> matmul(): ");
    }
    EXPECT_EQ(g::OpContext::describe("empty"), "linear(): ");
  }
  EXPECT_EQ(g::OpContext::describe("empty"), "empty(): ");
}

TEST(OpContext, IsPerThread) {
  const g::OpContext outer("linear");
  std::string seen;
  std::thread([&] { seen = g::OpContext::describe("empty"); }).join();
  EXPECT_EQ(seen, "empty(): ");
}

TEST(OpContext, AnErrorUnwindsItsContexts) {
  EXPECT_THROW(g::zeros({-1}), g::Error);
  EXPECT_EQ(g::OpContext::describe("empty"), "empty(): ");
}

// 2^50 bytes: a size that fits in 64 bits but in no machine's memory.
constexpr int64_t k2_48 = int64_t{1} << 48, k2_25 = int64_t{1} << 25;

TEST(OutOfMemory, NamesTheOpTheTensorAndTheSize) {
  EXPECT_THAT(error_message([] {
                g::zeros({k2_48, 4}, g::kUInt8);
              }),
              HasSubstr("zeros(): a uint8 tensor of shape (281474976710656, 4): CPU out of "
                        "memory: tried to allocate 1125899906842624 bytes (1.00 PiB). Free "
                        "tensors you no longer need or use smaller batches"));
  EXPECT_THAT(error_message([] {
                g::empty({k2_48, 4}, g::kUInt8);
              }),
              HasSubstr("empty(): a uint8 tensor of shape (281474976710656, 4): CPU out of"));
  // The output of an op: (2^25, 1) + (1, 2^25) broadcasts to 2^50 bytes.
  const g::Tensor column = g::zeros({k2_25, 1}, g::kUInt8), row = g::zeros({1, k2_25}, g::kUInt8);
  EXPECT_THAT(error_message([&] { column + row; }),
              HasSubstr("add(): a uint8 tensor of shape (33554432, 33554432): CPU out of memory"));
}

TEST(OutOfMemory, IsItsOwnErrorType) {
  EXPECT_THROW(g::ones({k2_48, 4}, g::kUInt8), g::OutOfMemoryError);
  // ... and still a graft::Error for code that catches those.
  EXPECT_THROW(g::ones({k2_48, 4}, g::kUInt8), g::Error);
  // A size no 64-bit count can hold is a plain Error: no allocator was asked.
  try {
    g::empty({k2_48 * 4, k2_48});
    FAIL() << "no error";
  } catch (const g::OutOfMemoryError&) {
    FAIL() << "an OutOfMemoryError";
  } catch (const g::Error&) {
  }
}

TEST(OutOfMemory, BytesAreWrittenExactlyAndReadably) {
  EXPECT_EQ(g::describe_bytes(0), "0 bytes");
  EXPECT_EQ(g::describe_bytes(1023), "1023 bytes");
  EXPECT_EQ(g::describe_bytes(1536), "1536 bytes (1.50 KiB)");
  EXPECT_EQ(g::describe_bytes(size_t{3} << 30), "3221225472 bytes (3.00 GiB)");
}

}  // namespace
