// GRAFT_HOST_DEVICE marks functions that both the CPU code and CUDA kernels call (the
// elementwise functors, the Philox block function): __host__ __device__ under nvcc,
// nothing for the host compiler.
#pragma once

#if defined(__CUDACC__)
#define GRAFT_HOST_DEVICE __host__ __device__
#else
#define GRAFT_HOST_DEVICE
#endif
