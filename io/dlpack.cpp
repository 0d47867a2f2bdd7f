// DLPack export and import. Both managed forms share one implementation, templated on the
// struct: they differ only in where the DLTensor sits and in the versioned one's header.
#include "graft/io/dlpack.h"

#include <array>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "graft/kernels/cuda/runtime.h"

namespace graft {
namespace {

struct DTypeCode {
  DType dtype;
  DLDataType dl;
};
constexpr std::array<DTypeCode, kNumDTypes> kDTypeCodes = {{{kBool, {kDLBool, 8, 1}},
                                                            {kUInt8, {kDLUInt, 8, 1}},
                                                            {kInt32, {kDLInt, 32, 1}},
                                                            {kInt64, {kDLInt, 64, 1}},
                                                            {kFloat16, {kDLFloat, 16, 1}},
                                                            {kBFloat16, {kDLBfloat, 16, 1}},
                                                            {kFloat32, {kDLFloat, 32, 1}},
                                                            {kFloat64, {kDLFloat, 64, 1}}}};

DLDataType to_dl_dtype(DType dtype) {
  for (const DTypeCode& code : kDTypeCodes) {
    if (code.dtype == dtype) return code.dl;
  }
  throw Error(std::string("to_dlpack(): no DLPack code for dtype ") + dtype_name(dtype));
}

std::string describe(DLDataType dl) {
  static constexpr std::array<const char*, 7> kNames = {"int",    "uint",    "float", "opaque",
                                                        "bfloat", "complex", "bool"};
  std::ostringstream name;
  if (dl.code < kNames.size()) {
    name << kNames[dl.code];
  } else {
    name << "code " << static_cast<int>(dl.code) << "/";
  }
  name << static_cast<int>(dl.bits);
  if (dl.lanes != 1) name << "x" << dl.lanes;
  return name.str();
}

DType from_dl_dtype(DLDataType dl) {
  GRAFT_CHECK(dl.lanes == 1, "from_dlpack(): vector dtype ", describe(dl), " (", dl.lanes,
              " lanes) is not supported; graft tensors hold one value per element");
  for (const DTypeCode& code : kDTypeCodes) {
    if (code.dl.code == dl.code && code.dl.bits == dl.bits) return code.dtype;
  }
  throw Error("from_dlpack(): dtype " + describe(dl) +
              " is not supported; graft has bool, uint8, int32, int64, float32 and float64");
}

Device from_dl_device(DLDevice dl) {
  switch (dl.device_type) {
    case kDLCPU:
    case kDLCUDAHost:  // pinned host memory is host memory to every CPU kernel
      return Device::cpu();
    case kDLCUDA: {
      GRAFT_CHECK(cuda::is_available(), "from_dlpack(): the tensor is on cuda:", dl.device_id,
                  " but this graft ", "has no CUDA device (built without CUDA, or none visible)");
      GRAFT_CHECK(dl.device_id >= 0 && dl.device_id < cuda::device_count(),
                  "from_dlpack(): the tensor is on cuda:", dl.device_id, " but only ",
                  cuda::device_count(), " CUDA device(s) are visible");
      return Device::cuda(dl.device_id);
    }
    default:
      throw Error("from_dlpack(): DLPack device type " +
                  std::to_string(static_cast<int>(dl.device_type)) +
                  " is not supported; graft reads CPU (1), CUDA (2) and CUDA host (3) memory");
  }
}

// Where each managed form keeps its DLTensor, and the version it announces.
DLTensor& dl_tensor_of(DLManagedTensor& m) { return m.dl_tensor; }
DLTensor& dl_tensor_of(DLManagedTensorVersioned& m) { return m.dl_tensor; }
bool is_read_only(const DLManagedTensor&) { return false; }
bool is_read_only(const DLManagedTensorVersioned& m) {
  return (m.flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
}
void set_version(DLManagedTensor&) {}
void set_version(DLManagedTensorVersioned& m) {
  m.version = {DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION};
  m.flags = 0;
}
void check_version(const DLManagedTensor&) {}
void check_version(const DLManagedTensorVersioned& m) {
  GRAFT_CHECK(m.version.major == DLPACK_MAJOR_VERSION, "from_dlpack(): DLPack version ",
              m.version.major, ".", m.version.minor, " has a layout graft cannot read (it reads ",
              DLPACK_MAJOR_VERSION, ".x)");
}

// What graft lends: the tensor (which keeps the storage alive), the arrays the DLTensor
// points into, and the managed struct itself, freed together by the deleter.
template <class Managed>
struct Export {
  Tensor tensor;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  Managed managed{};

  static void release(Managed* self) { delete static_cast<Export*>(self->manager_ctx); }
};

template <class Managed>
Managed* export_tensor(const Tensor& tensor) {
  auto owner = std::make_unique<Export<Managed>>();
  owner->tensor = tensor.detach();
  const Tensor& t = owner->tensor;
  owner->shape.assign(t.shape().begin(), t.shape().end());
  owner->strides.assign(t.strides().begin(), t.strides().end());

  Managed& managed = owner->managed;
  set_version(managed);
  managed.manager_ctx = owner.get();
  managed.deleter = &Export<Managed>::release;
  DLTensor& dl = dl_tensor_of(managed);
  // The specification asks for a null pointer when there are no elements.
  dl.data = t.numel() == 0 ? nullptr : t.data_ptr();
  dl.device = to_dlpack_device(t.device());
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = to_dl_dtype(t.dtype());
  dl.shape = owner->shape.data();
  dl.strides = owner->strides.data();
  dl.byte_offset = 0;
  return &owner.release()->managed;
}

// Calls the producer's deleter when the last holder lets go: the storage of the imported
// tensor, or the import itself when it throws.
template <class Managed>
struct Lease {
  Managed* managed;
  explicit Lease(Managed* m) : managed(m) {}
  ~Lease() {
    if (managed->deleter != nullptr) managed->deleter(managed);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
};

template <class Managed>
Tensor import_tensor(Managed* managed) {
  GRAFT_CHECK(managed != nullptr, "from_dlpack(): the managed tensor is a null pointer");
  if (managed->deleter == &Export<Managed>::release) {
    // graft's own export coming home: hand back the tensor it holds, same storage.
    std::unique_ptr<Export<Managed>> owner(static_cast<Export<Managed>*>(managed->manager_ctx));
    return owner->tensor;
  }
  auto lease = std::make_shared<Lease<Managed>>(managed);
  check_version(*managed);
  const DLTensor& dl = dl_tensor_of(*managed);
  GRAFT_CHECK(dl.ndim >= 0 && dl.ndim <= kMaxDims, "from_dlpack(): ", dl.ndim,
              " dims; graft tensors have 0 to ", kMaxDims);
  GRAFT_CHECK(dl.ndim == 0 || dl.shape != nullptr, "from_dlpack(): ", dl.ndim,
              " dims but no shape array");
  const DType dtype = from_dl_dtype(dl.dtype);
  const Device device = from_dl_device(dl.device);

  Shape shape(std::vector<int64_t>(dl.shape, dl.shape + dl.ndim));
  // DLPack before 1.0 allowed null strides for a row-major tensor.
  const Shape strides = dl.strides == nullptr
                            ? contiguous_strides(shape)
                            : Shape(std::vector<int64_t>(dl.strides, dl.strides + dl.ndim));
  for (int64_t i = 0; i < shape.size(); ++i) {
    GRAFT_CHECK(shape[i] >= 0, "from_dlpack(): negative size in shape ", shape);
    // from_blob takes any stride along a dim of size 0 or 1 (never stepped along).
    GRAFT_CHECK(strides[i] >= 0 || shape[i] <= 1, "from_dlpack(): strides ", strides,
                " have a negative entry, which graft tensors cannot express; make a ",
                "contiguous copy first (e.g. numpy.ascontiguousarray, or .contiguous())");
  }
  GRAFT_CHECK(dl.data != nullptr || shape.numel() == 0, "from_dlpack(): data is a null pointer ",
              "for a tensor of shape ", shape);
  char* data = static_cast<char*>(dl.data);
  if (data != nullptr) data += dl.byte_offset;

  Tensor view = from_blob(data, shape, strides, TensorOptions(dtype).device(device),
                          [lease](void*) mutable { lease.reset(); });
  lease.reset();  // the storage holds the only reference now
  return is_read_only(*managed) ? view.clone() : view;
}

}  // namespace

DLDevice to_dlpack_device(Device device) {
  if (device.is_cuda()) return {kDLCUDA, device.index()};
  return {kDLCPU, 0};
}

DLManagedTensor* to_dlpack(const Tensor& tensor) { return export_tensor<DLManagedTensor>(tensor); }
DLManagedTensorVersioned* to_dlpack_versioned(const Tensor& tensor) {
  return export_tensor<DLManagedTensorVersioned>(tensor);
}

Tensor from_dlpack(DLManagedTensor* managed) { return import_tensor(managed); }
Tensor from_dlpack(DLManagedTensorVersioned* managed) { return import_tensor(managed); }

}  // namespace graft
