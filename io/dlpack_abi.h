// The DLPack ABI: the C structs through which array libraries lend each other tensors
// without a copy (https://dmlc.github.io/dlpack/latest/c_api.html, version 1.1).
//
// Written here from the specification, field for field, so graft needs no package for it
// (Debian 12's libdlpack-dev is 0.6, older than the versioned struct). The include guard is
// the specification's own: whichever of this file and another library's dlpack.h comes
// first defines the types, and the other steps aside, so graft and libtorch, CuPy or
// TVM can be used in one translation unit.
//
// The two managed forms differ in what they carry around the same DLTensor:
//   DLManagedTensor            the legacy form (DLPack < 1.0), what libtorch's
//                              at::toDLPack/at::fromDLPack and NumPy 1.24 speak;
//   DLManagedTensorVersioned   DLPack 1.x: a version, and flags (read-only, is-copied).
// Either is lent with a deleter: the consumer calls it exactly once when it lets go, and
// the producer's memory stays alive until then.
#ifndef DLPACK_DLPACK_H_
#define DLPACK_DLPACK_H_

#include <stddef.h>
#include <stdint.h>

#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t major;  // a different major version means a different layout: call only the deleter
  uint32_t minor;  // minor versions only add enumeration values
} DLPackVersion;

#ifdef __cplusplus
typedef enum : int32_t {
#else
typedef enum {
#endif
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,  // pinned host memory (cudaMallocHost)
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,  // unified memory (cudaMallocManaged)
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
  kDLMAIA = 17,
  kDLTrn = 18,
} DLDeviceType;

typedef struct {
  DLDeviceType device_type;
  int32_t device_id;  // 0 for host memory
} DLDevice;

typedef enum {
  kDLInt = 0U,
  kDLUInt = 1U,
  kDLFloat = 2U,
  kDLOpaqueHandle = 3U,
  kDLBfloat = 4U,
  kDLComplex = 5U,
  kDLBool = 6U,  // stored in 8 bits
  kDLFloat8_e3m4 = 7U,
  kDLFloat8_e4m3 = 8U,
  kDLFloat8_e4m3b11fnuz = 9U,
  kDLFloat8_e4m3fn = 10U,
  kDLFloat8_e4m3fnuz = 11U,
  kDLFloat8_e5m2 = 12U,
  kDLFloat8_e5m2fnuz = 13U,
  kDLFloat8_e8m0fnu = 14U,
  kDLFloat6_e2m3fn = 15U,
  kDLFloat6_e3m2fn = 16U,
  kDLFloat4_e2m1fn = 17U,
} DLDataTypeCode;

typedef struct {
  uint8_t code;    // a DLDataTypeCode
  uint8_t bits;    // 8, 16, 32, 64 ...
  uint16_t lanes;  // > 1 for vector types (float4 ...)
} DLDataType;

typedef struct {
  void* data;  // device pointer on GPUs; the first element is at data + byte_offset
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;        // ndim sizes
  int64_t* strides;      // ndim strides in elements; NULL (before 1.0 only) means row-major
  uint64_t byte_offset;  // from data to the first element
} DLTensor;

typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;                              // the producer's own record
  void (*deleter)(struct DLManagedTensor* self);  // frees manager_ctx and self; may be NULL
} DLManagedTensor;

#define DLPACK_FLAG_BITMASK_READ_ONLY (1UL << 0UL)  // the consumer must not write
#define DLPACK_FLAG_BITMASK_IS_COPIED (1UL << 1UL)  // the producer made a copy for this
#define DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED (1UL << 2UL)

typedef struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensorVersioned* self);
  uint64_t flags;  // DLPACK_FLAG_BITMASK_*
  DLTensor dl_tensor;
} DLManagedTensorVersioned;

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // DLPACK_DLPACK_H_
