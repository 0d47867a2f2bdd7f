// conv2d forward and forward + backward at the Fashion-MNIST CNN's sizes, against direct
// Eigen GEMMs of the same shapes (goal: ratio near 1, i.e. im2col costs little).
//
// A conv of out_channels M over K = in_channels * kh * kw taps and P = batch * out_h * out_w
// output pixels is one (M, K) x (K, P) product: 2 M K P FLOPs. Its backward is two more of
// the same size (grad_input: (K, M) x (M, P); grad_weight: (M, P) x (P, K)), so forward +
// backward is 6 M K P. The baseline runs exactly those Eigen products on preallocated
// row-major matrices, with no im2col, no col2im and no allocation: what a conv would cost if
// moving data were free. Built with OpenMP, so Eigen uses the threads graft does.
#include <Eigen/Core>

#include "bench_common.h"

namespace graft::bench {
namespace {

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Layer {
  int64_t batch, in_channels, out_channels, side;  // 3x3 kernel, padding 1, stride 1
};
// The CNN's two convolutions at batch 64, and one image of 56 x 56 as at inference (where
// the threads must share the image, not the batch).
const Layer kLayers[] = {{64, 1, 32, 28}, {64, 32, 64, 14}, {1, 32, 64, 56}};

void run_conv(benchmark::State& state, bool backward) {
  const Layer layer = kLayers[state.range(0)];
  const int64_t m = layer.out_channels, k = layer.in_channels * 9;
  const int64_t p = layer.batch * layer.side * layer.side;
  const Tensor x = filled({layer.batch, layer.in_channels, layer.side, layer.side}, 1);
  const Tensor w = filled({layer.out_channels, layer.in_channels, 3, 3}, 2);
  const Tensor b = filled({layer.out_channels}, 3);
  const Tensor dy = filled({layer.batch, layer.out_channels, layer.side, layer.side}, 4);

  RowMajorMatrix ew = RowMajorMatrix::Random(m, k), ecols = RowMajorMatrix::Random(k, p);
  RowMajorMatrix ey(m, p), edy = RowMajorMatrix::Random(m, p), edcols(k, p), edw(m, k);
  const auto eigen_gemms = [&] {
    ey.noalias() = ew * ecols;
    if (backward) {
      edcols.noalias() = ew.transpose() * edy;
      edw.noalias() = edy * ecols.transpose();
    }
    benchmark::ClobberMemory();
  };
  const auto graft_conv = [&] {
    benchmark::DoNotOptimize(conv2d(x, w, b, 1, 1));
    if (backward) benchmark::DoNotOptimize(conv2d_backward(dy, x, w, 1, 1, 1, 1));
  };

  // Before timing: one interior output pixel against its direct sum over the 3x3 taps.
  const Tensor out = conv2d(x, w, b, 1, 1);
  const int64_t c = layer.side / 2, o = m - 1;
  const float* xp = x.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  double want = b.data_ptr<float>()[o];
  for (int64_t ci = 0; ci < layer.in_channels; ++ci)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 3; ++j)
        want += static_cast<double>(wp[((o * layer.in_channels + ci) * 3 + i) * 3 + j]) *
                xp[(ci * layer.side + c - 1 + i) * layer.side + c - 1 + j];
  const double got = out.data_ptr<float>()[(o * layer.side + c) * layer.side + c];
  if (!check_close(state, "conv2d output (0, m - 1, side / 2, side / 2)", got, want, 1e-4)) return;

  const double flops = (backward ? 6.0 : 2.0) * static_cast<double>(m) * k * p;
  run_paired(state, {"GFLOP/s", "eigen_GFLOP/s", flops, flops}, graft_conv, eigen_gemms);
}

void BM_conv2d_forward(benchmark::State& state) { run_conv(state, false); }
void BM_conv2d_forward_backward(benchmark::State& state) { run_conv(state, true); }

BENCHMARK(BM_conv2d_forward)->DenseRange(0, 2)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_conv2d_forward_backward)
    ->DenseRange(0, 2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace graft::bench
