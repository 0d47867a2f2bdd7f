// Registration of the CUDA backend's kernel families (one function per family file).
#pragma once

#include "graft/kernels/dispatch.h"

namespace graft::kernels::cuda {

void register_runtime(KernelTable& table);      // allocator.cu: allocator and transfers
void register_elementwise(KernelTable& table);  // elementwise.cu
void register_reduce(KernelTable& table);       // reduce.cu
void register_matmul(KernelTable& table);       // matmul.cu
void register_softmax(KernelTable& table);      // softmax.cu
void register_index(KernelTable& table);        // index.cu
void register_random(KernelTable& table);       // random.cu
void register_sort(KernelTable& table);         // sort.cu: sort and topk
void register_multinomial(KernelTable& table);  // multinomial.cu
void register_scan(KernelTable& table);         // scan.cu
void register_conv(KernelTable& table);         // conv.cu
void register_pool(KernelTable& table);         // pool.cu
void register_optim(KernelTable& table);        // optim.cu
void register_layer_norm(KernelTable& table);   // layer_norm.cu
void register_attention(KernelTable& table);    // attention.cu

}  // namespace graft::kernels::cuda
