// graft::to_dlpack / from_dlpack: the fields a consumer reads, zero-copy both ways, the
// deleter called exactly once whichever side lets go last, and a clear error (with the
// deleter still called) for everything graft cannot take. A foreign producer is played by
// hand-built managed tensors with a counting deleter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "io/checkpoint_test_util.h"
#include "test_util.h"

namespace g = graft;
using g::testing::error_message;
using g::testing::expect_identical;
using g::testing::make_tensor;
using ::testing::HasSubstr;

namespace {

constexpr g::DType kDTypes[] = {g::kBool,    g::kUInt8,    g::kInt32,   g::kInt64,
                                g::kFloat16, g::kBFloat16, g::kFloat32, g::kFloat64};

// ---- graft as the producer

TEST(DLPack, ExportDescribesTheTensor) {
  const g::Tensor base = g::arange(24, g::kFloat64).reshape({2, 3, 4});
  const g::Tensor t = base.transpose(0, 2).narrow(1, 1, 2);  // (4, 2, 2), strides (1, 4, 12)
  DLManagedTensor* m = g::to_dlpack(t);
  const DLTensor& dl = m->dl_tensor;
  EXPECT_EQ(dl.device.device_type, kDLCPU);
  EXPECT_EQ(dl.device.device_id, 0);
  EXPECT_EQ(dl.dtype.code, kDLFloat);
  EXPECT_EQ(dl.dtype.bits, 64);
  EXPECT_EQ(dl.dtype.lanes, 1);
  ASSERT_EQ(dl.ndim, 3);
  EXPECT_EQ(std::vector<int64_t>(dl.shape, dl.shape + 3), (std::vector<int64_t>{4, 2, 2}));
  EXPECT_EQ(std::vector<int64_t>(dl.strides, dl.strides + 3), (std::vector<int64_t>{1, 4, 12}));
  EXPECT_EQ(dl.byte_offset, 0u);
  EXPECT_EQ(dl.data, t.data_ptr());  // the first element of the view, not of the storage
  m->deleter(m);
}

TEST(DLPack, ExportCodesEveryDType) {
  const std::vector<std::pair<uint8_t, uint8_t>> want = {
      {kDLBool, 8},   {kDLUInt, 8},    {kDLInt, 32},   {kDLInt, 64},
      {kDLFloat, 16}, {kDLBfloat, 16}, {kDLFloat, 32}, {kDLFloat, 64}};
  for (size_t i = 0; i < want.size(); ++i) {
    DLManagedTensorVersioned* m = g::to_dlpack_versioned(g::zeros({2}, kDTypes[i]));
    EXPECT_EQ(m->dl_tensor.dtype.code, want[i].first) << kDTypes[i];
    EXPECT_EQ(m->dl_tensor.dtype.bits, want[i].second) << kDTypes[i];
    EXPECT_EQ(m->version.major, 1u);
    EXPECT_EQ(m->flags, 0u);
    m->deleter(m);
  }
}

TEST(DLPack, ExportKeepsTheMemoryAliveAfterTheTensorDies) {
  DLManagedTensor* m = nullptr;
  {
    g::Tensor t = g::full({1000}, 7.0);
    m = g::to_dlpack(t);
  }
  const float* data = static_cast<const float*>(m->dl_tensor.data);
  EXPECT_EQ(data[0], 7.0f);
  EXPECT_EQ(data[999], 7.0f);
  m->deleter(m);
}

TEST(DLPack, ExportOfZeroDimAndEmptyTensors) {
  DLManagedTensor* scalar = g::to_dlpack(g::full({}, 3.5));
  EXPECT_EQ(scalar->dl_tensor.ndim, 0);
  EXPECT_EQ(*static_cast<const float*>(scalar->dl_tensor.data), 3.5f);
  scalar->deleter(scalar);

  DLManagedTensor* empty = g::to_dlpack(g::zeros({0, 3}));
  EXPECT_EQ(empty->dl_tensor.ndim, 2);
  EXPECT_EQ(empty->dl_tensor.shape[0], 0);
  EXPECT_EQ(empty->dl_tensor.data, nullptr);  // the specification's choice for no elements
  empty->deleter(empty);
}

TEST(DLPack, ExportDetachesFromTheGraph) {
  g::Tensor w = g::ones({3}).requires_grad_();
  g::Tensor y = w * 2;
  DLManagedTensor* m = g::to_dlpack(y);
  const g::Tensor back = g::from_dlpack(m);
  EXPECT_FALSE(back.requires_grad());
  EXPECT_EQ(back.data_ptr(), y.data_ptr());
}

// ---- round trips

TEST(DLPack, RoundTripIsTheSameStorageForBothForms) {
  const g::Tensor t = g::arange(12).reshape({3, 4}).narrow(1, 1, 2);
  const g::Tensor legacy = g::from_dlpack(g::to_dlpack(t));
  const g::Tensor versioned = g::from_dlpack(g::to_dlpack_versioned(t));
  for (const g::Tensor& back : {legacy, versioned}) {
    EXPECT_EQ(back.storage(), t.storage());  // one version counter for autograd
    EXPECT_EQ(back.shape(), t.shape());
    EXPECT_EQ(back.strides(), t.strides());
    EXPECT_EQ(back.data_ptr(), t.data_ptr());
  }
}

// ---- graft as the consumer of a foreign producer

// A producer's tensor: owns its buffer, shape and strides, counts deleter calls.
template <class Managed>
struct Foreign {
  std::vector<double> buffer;
  std::vector<int64_t> shape, strides;
  Managed managed{};
  int* deletes = nullptr;

  static void release(Managed* self) {
    auto* owner = static_cast<Foreign*>(self->manager_ctx);
    ++*owner->deletes;
    delete owner;
  }
};

template <class Managed>
Managed* make_foreign(int* deletes, std::vector<double> buffer, std::vector<int64_t> shape,
                      std::vector<int64_t> strides, uint64_t byte_offset = 0) {
  auto* owner = new Foreign<Managed>{std::move(buffer), std::move(shape), std::move(strides)};
  owner->deletes = deletes;
  Managed& m = owner->managed;
  m.manager_ctx = owner;
  m.deleter = &Foreign<Managed>::release;
  DLTensor& dl = m.dl_tensor;
  dl.data = owner->buffer.data();
  dl.device = {kDLCPU, 0};
  dl.ndim = static_cast<int32_t>(owner->shape.size());
  dl.dtype = {kDLFloat, 64, 1};
  dl.shape = owner->shape.data();
  dl.strides = owner->strides.empty() ? nullptr : owner->strides.data();
  dl.byte_offset = byte_offset;
  return &m;
}

DLManagedTensorVersioned* versioned(DLManagedTensorVersioned* m, uint32_t major, uint64_t flags) {
  m->version = {major, 0};
  m->flags = flags;
  return m;
}

TEST(DLPack, ImportSharesMemoryAndDeletesOnceWhenTheLastViewDies) {
  int deletes = 0;
  auto* m = make_foreign<DLManagedTensor>(&deletes, {0, 1, 2, 3, 4, 5}, {2, 3}, {3, 1});
  const double* buffer = static_cast<Foreign<DLManagedTensor>*>(m->manager_ctx)->buffer.data();
  {
    g::Tensor t = g::from_dlpack(m);
    EXPECT_EQ(t.data_ptr(), buffer);
    expect_identical(t, make_tensor({0, 1, 2, 3, 4, 5}, {2, 3}, g::kFloat64));
    g::Tensor column = t.select(1, 2);
    t = g::Tensor();
    EXPECT_EQ(deletes, 0);  // the column still views the memory
    column.fill_(-1);
    EXPECT_EQ(buffer[2], -1);  // writes reach the producer's memory
    EXPECT_EQ(buffer[5], -1);
  }
  EXPECT_EQ(deletes, 1);
}

TEST(DLPack, ImportKeepsStridesAndByteOffset) {
  int deletes = 0;
  // A (3, 2) column-major view starting one element in.
  auto* m = make_foreign<DLManagedTensorVersioned>(&deletes, {-9, 0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3},
                                                   sizeof(double));
  g::Tensor t = g::from_dlpack(versioned(m, 1, 0));
  EXPECT_EQ(t.strides(), g::Shape({1, 3}));
  expect_identical(t, make_tensor({0, 3, 1, 4, 2, 5}, {3, 2}, g::kFloat64));
  t = g::Tensor();
  EXPECT_EQ(deletes, 1);
}

TEST(DLPack, ImportWithoutStridesIsRowMajor) {
  int deletes = 0;
  g::Tensor t = g::from_dlpack(make_foreign<DLManagedTensor>(&deletes, {1, 2, 3, 4}, {2, 2}, {}));
  EXPECT_EQ(t.strides(), g::Shape({2, 1}));
  expect_identical(t, make_tensor({1, 2, 3, 4}, {2, 2}, g::kFloat64));
}

TEST(DLPack, ImportOfZeroDimAndEmpty) {
  int deletes = 0;
  expect_identical(g::from_dlpack(make_foreign<DLManagedTensor>(&deletes, {2.5}, {}, {})),
                   g::full({}, 2.5, g::kFloat64));
  auto* empty = make_foreign<DLManagedTensor>(&deletes, {}, {0, 4}, {4, 1});
  empty->dl_tensor.data = nullptr;
  EXPECT_EQ(g::from_dlpack(empty).shape(), g::Shape({0, 4}));
  EXPECT_EQ(deletes, 2);
}

TEST(DLPack, ReadOnlyImportIsACopy) {
  int deletes = 0;
  auto* m = make_foreign<DLManagedTensorVersioned>(&deletes, {1, 2, 3}, {3}, {1});
  const double* buffer =
      static_cast<Foreign<DLManagedTensorVersioned>*>(m->manager_ctx)->buffer.data();
  g::Tensor t = g::from_dlpack(versioned(m, 1, DLPACK_FLAG_BITMASK_READ_ONLY));
  EXPECT_EQ(deletes, 1);  // copied, so the producer's memory is handed back at once
  EXPECT_NE(t.data_ptr(), buffer);
  expect_identical(t, make_tensor({1, 2, 3}, {3}, g::kFloat64));
}

// Each unsupported input: an error naming the problem, and the producer's memory handed
// back exactly once all the same.
TEST(DLPack, ImportRefusalsStillCallTheDeleterOnce) {
  struct Case {
    const char* want;
    void (*spoil)(DLManagedTensorVersioned*);
  };
  const Case cases[] = {
      {"complex64",
       [](DLManagedTensorVersioned* m) {
         m->dl_tensor.dtype = {kDLComplex, 64, 1};
       }},
      {"2 lanes", [](DLManagedTensorVersioned* m) { m->dl_tensor.dtype.lanes = 2; }},
      {"int16",
       [](DLManagedTensorVersioned* m) {
         m->dl_tensor.dtype = {kDLInt, 16, 1};
       }},
      {"device type 4",
       [](DLManagedTensorVersioned* m) {
         m->dl_tensor.device = {kDLOpenCL, 0};
       }},
      {"negative entry", [](DLManagedTensorVersioned* m) { m->dl_tensor.strides[1] = -1; }},
      {"negative size", [](DLManagedTensorVersioned* m) { m->dl_tensor.shape[0] = -2; }},
      {"17 dims", [](DLManagedTensorVersioned* m) { m->dl_tensor.ndim = 17; }},
      {"version 2.0", [](DLManagedTensorVersioned* m) { m->version.major = 2; }},
      {"null pointer", [](DLManagedTensorVersioned* m) { m->dl_tensor.data = nullptr; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    int deletes = 0;
    auto* m = versioned(
        make_foreign<DLManagedTensorVersioned>(&deletes, {1, 2, 3, 4}, {2, 2}, {2, 1}), 1, 0);
    c.spoil(m);
    EXPECT_THAT(error_message([&] { g::from_dlpack(m); }),
                testing::AllOf(HasSubstr("from_dlpack()"), HasSubstr(c.want)));
    EXPECT_EQ(deletes, 1);
  }
}

TEST(DLPack, NegativeStrideOnASizeOneDimIsHarmless) {
  int deletes = 0;
  auto* m = make_foreign<DLManagedTensor>(&deletes, {1, 2}, {1, 2}, {-5, 1});
  expect_identical(g::from_dlpack(m), make_tensor({1, 2}, {1, 2}, g::kFloat64));
}

TEST(DLPack, NullDeleterIsAllowed) {
  std::vector<double> buffer = {4, 5};
  std::vector<int64_t> shape = {2};
  DLManagedTensor m{};
  m.dl_tensor = {buffer.data(), {kDLCPU, 0}, 1, {kDLFloat, 64, 1}, shape.data(), nullptr, 0};
  expect_identical(g::from_dlpack(&m), make_tensor({4, 5}, {2}, g::kFloat64));
}

TEST(DLPack, CudaMemoryWithoutCudaIsAClearError) {
  if (g::cuda::is_available()) GTEST_SKIP() << "this machine has a CUDA device";
  int deletes = 0;
  auto* m = make_foreign<DLManagedTensor>(&deletes, {1}, {1}, {1});
  m->dl_tensor.device = {kDLCUDA, 0};
  EXPECT_THAT(error_message([&] { g::from_dlpack(m); }), HasSubstr("has no CUDA device"));
  EXPECT_EQ(deletes, 1);
}

// ---- CUDA

TEST(DLPackCuda, ExportAndImportOnTheDevice) {
  GRAFT_REQUIRE_CUDA();
  const g::Tensor t = g::arange(6, g::TensorOptions(g::kFloat32).device(g::Device::cuda()));
  DLManagedTensorVersioned* m = g::to_dlpack_versioned(t);
  EXPECT_EQ(m->dl_tensor.device.device_type, kDLCUDA);
  EXPECT_EQ(m->dl_tensor.device.device_id, 0);
  EXPECT_EQ(m->dl_tensor.data, t.data_ptr());
  const g::Tensor back = g::from_dlpack(m);
  EXPECT_EQ(back.device(), g::Device::cuda());
  EXPECT_EQ(back.data_ptr(), t.data_ptr());
}

TEST(DLPackCuda, ForeignDeviceMemoryIsViewedInPlace) {
  GRAFT_REQUIRE_CUDA();
  const g::Tensor owner = g::zeros({4}, g::TensorOptions(g::kFloat64).device(g::Device::cuda()));
  std::vector<int64_t> shape = {4};
  int deletes = 0;
  struct Context {
    int* deletes;
  };
  DLManagedTensor m{};
  m.dl_tensor = {owner.data_ptr(), {kDLCUDA, 0}, 1, {kDLFloat, 64, 1}, shape.data(), nullptr, 0};
  Context context{&deletes};
  m.manager_ctx = &context;
  m.deleter = [](DLManagedTensor* self) { ++*static_cast<Context*>(self->manager_ctx)->deletes; };
  {
    g::Tensor view = g::from_dlpack(&m);
    EXPECT_EQ(view.device(), g::Device::cuda());
    view.fill_(3);
  }
  EXPECT_EQ(deletes, 1);
  expect_identical(owner.cpu(), g::full({4}, 3.0, g::kFloat64));
}

}  // namespace
