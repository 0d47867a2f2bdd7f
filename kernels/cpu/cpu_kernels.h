// Registration of the CPU backend's kernel families (one function per family file).
#pragma once

#include "graft/kernels/dispatch.h"

namespace graft::kernels::cpu {

void register_elementwise(KernelTable& table);  // elementwise.cpp
void register_reduce(KernelTable& table);       // reduce.cpp
void register_matmul(KernelTable& table);       // matmul.cpp
void register_softmax(KernelTable& table);      // softmax.cpp
void register_index(KernelTable& table);        // index.cpp
void register_random(KernelTable& table);       // random.cpp
void register_sort(KernelTable& table);         // sort.cpp: sort and topk
void register_multinomial(KernelTable& table);  // multinomial.cpp
void register_scan(KernelTable& table);         // scan.cpp
void register_conv(KernelTable& table);         // conv.cpp
void register_pool(KernelTable& table);         // pool.cpp
void register_optim(KernelTable& table);        // optim.cpp
void register_layer_norm(KernelTable& table);   // layer_norm.cpp
void register_attention(KernelTable& table);    // attention.cpp

}  // namespace graft::kernels::cpu
