// DLPack: lending tensors to other array libraries (PyTorch, NumPy, CuPy, JAX ...) and
// borrowing theirs, without a copy.
//
//   DLManagedTensor* m = graft::to_dlpack(t);      // at::fromDLPack(m) reads it in libtorch
//   graft::Tensor u = graft::from_dlpack(m);       // takes ownership of m; shares its memory
//   DLManagedTensorVersioned* v = graft::to_dlpack_versioned(t);   // DLPack 1.x
//
// Ownership: to_dlpack keeps the tensor's storage alive until the consumer calls the
// deleter (exactly once, as the specification asks), whatever happens to `t` meanwhile.
// from_dlpack takes the managed tensor over: the deleter runs exactly once, when the last
// graft view of the memory dies, or at once when from_dlpack throws (an unsupported dtype,
// device or layout), so nothing leaks either way.
//
// Layout: shapes and strides cross as they are (strides count elements); a tensor that
// comes in with a byte_offset starts there. graft exports data pointing at the first
// element with byte_offset 0, as libtorch does, because several consumers ignore
// byte_offset. graft has no negative strides, so a reversed view (NumPy's a[::-1]) is
// refused with the fix (a contiguous copy on the producer's side), as torch.from_numpy does.
//
// A versioned tensor flagged read-only is imported as a copy: graft tensors are always
// writable, and writing into memory its owner declared read-only would be a silent bug.
// Dtypes: every graft dtype; bool is DLPack's kDLBool (8 bits). Devices: the CPU (and pinned
// host memory, kDLCUDAHost) and CUDA devices this build can use.
#pragma once

#include "graft/core/tensor.h"
#include "graft/io/dlpack_abi.h"

namespace graft {

// The producer side. The tensor is detached: the consumer sees the values, not the graph.
DLManagedTensor* to_dlpack(const Tensor& tensor);
DLManagedTensorVersioned* to_dlpack_versioned(const Tensor& tensor);

// The consumer side; see above for ownership. A managed tensor that graft itself produced
// comes back as a view of the very same storage (one version counter for autograd).
Tensor from_dlpack(DLManagedTensor* managed);
Tensor from_dlpack(DLManagedTensorVersioned* managed);

// The DLPack device of a tensor (what Python's __dlpack_device__ returns).
DLDevice to_dlpack_device(Device device);

}  // namespace graft
