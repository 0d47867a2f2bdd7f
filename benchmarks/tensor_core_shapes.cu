// The block shapes tensor_core_shapes.h offers. Each is the same kernel template instantiated
// for a row-major a (contiguous along k) and a row-major b (contiguous along n): the layout of
// cuda_bench's 4096^3 product and of a linear layer's forward.
//
// The candidates, all with 64x64 warp tiles (128 float accumulators a lane):
//  - the library's 128x256, BK 32, three stages (72 KiB of shared memory, one block an SM);
//  - the same with four stages (96 KiB): more loads in flight;
//  - BK 64, three stages (144 KiB): half the barriers per k (CUTLASS's 128x256_64x3);
//  - 256x128 with BK 64 (warps 4x2): the same work with a's tile the taller;
//  - 128x128 (2x2 warps, 128 threads) with BK 32 and four stages (64 KiB) or BK 64 and
//    three (96 KiB): two or three smaller blocks an SM, so one block's epilogue and prologue
//    overlap another's main loop;
//  - the library's shape and its BK 64 form with hoisted copies (TensorCoreConfig's
//    kHoisted, "_hoisted"): interior tiles' cp.async addresses set up once per block tile,
//    where the kernel's PTX shows about 250 instructions of copy arithmetic per k-tile beside
//    64 mma.sync a warp (docs/half.md).
#include <stdexcept>
#include <string>
#include <tuple>

#include "graft/kernels/cuda/matmul_tensor_core.cuh"
#include "tensor_core_shapes.h"

namespace graft::bench {
namespace {

namespace mm = graft::kernels::cuda::matmul;

// (BM, BN, BK, warps along m, warps along n, stages); named "BMxBNxBK_sS_wMxN".
using Shapes = std::tuple<
    mm::TensorCoreTiles, mm::TensorCoreConfig<128, 256, 32, 2, 4, 4>,
    mm::TensorCoreConfig<128, 256, 64, 2, 4, 3>, mm::TensorCoreConfig<256, 128, 64, 4, 2, 3>,
    mm::TensorCoreConfig<128, 128, 32, 2, 2, 4>, mm::TensorCoreConfig<128, 128, 64, 2, 2, 3>,
    mm::TensorCoreConfig<128, 256, 32, 2, 4, 3, true>,
    mm::TensorCoreConfig<128, 256, 64, 2, 4, 3, true>>;

template <class Cfg>
std::string shape_name() {
  return std::to_string(Cfg::bm) + "x" + std::to_string(Cfg::bn) + "x" + std::to_string(Cfg::bk) +
         "_s" + std::to_string(Cfg::stages) + "_w" + std::to_string(Cfg::bm / Cfg::wm) + "x" +
         std::to_string(Cfg::warps_n) + (Cfg::hoisted ? "_hoisted" : "");
}

template <class T, class Cfg>
void product(const void* a, const void* b, void* out, int64_t n) {
  // Row-major both: a walks its columns (k), b its columns (n); 16-byte rows.
  const std::string why = mm::tensor_core_unavailable<T, Cfg, true, false>();
  if (!why.empty()) throw ShapeUnavailable(shape_name<Cfg>() + ": " + why);
  mm::GemmParams<T> p;
  p.a = static_cast<const T*>(a);
  p.b = static_cast<const T*>(b);
  p.out = static_cast<T*>(out);
  p.m = p.n = p.k = n;
  p.batches = 1;
  p.a_layout = {n, 1, {}, true, true};
  p.b_layout = {n, 1, {}, true, true};
  mm::launch_tensor_core<T, Cfg, /*kAKContiguous=*/true, /*kBKContiguous=*/false>(p);
}

using Product = void (*)(const void*, const void*, void*, int64_t);
struct Shape {
  std::string name;
  Product bfloat16, float16;
};

template <class... Cfg>
std::vector<Shape> shapes_of(std::tuple<Cfg...>) {
  return {{shape_name<Cfg>(), &product<BFloat16, Cfg>, &product<Half, Cfg>}...};
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> table = shapes_of(Shapes{});
  return table;
}

}  // namespace

std::vector<std::string> tensor_core_shapes() {
  std::vector<std::string> names;
  for (const Shape& s : shapes()) names.push_back(s.name);
  return names;
}

void tensor_core_product(size_t shape, DType dtype, const void* a, const void* b, void* out,
                         int64_t n) {
  if (shape >= shapes().size() || !is_reduced_floating_point(dtype) || n % 8 != 0)
    throw std::invalid_argument(
        "tensor_core_product: takes a shape of tensor_core_shapes(), "
        "float16 or bfloat16, and n a multiple of 8");
  const Shape& s = shapes()[shape];
  (dtype == kBFloat16 ? s.bfloat16 : s.float16)(a, b, out, n);
}

}  // namespace graft::bench
