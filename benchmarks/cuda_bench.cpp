// cuda_bench: graft's CUDA kernels against the GPU's own ceilings, measured in one run.
//
// Ceilings: the copy bandwidth (graft's device-to-device copy_ and cudaMemcpyAsync D2D; the
// faster of the two is the ceiling) and cuBLAS SGEMM (graft's `cublas` matmul variant). Every
// other figure is a rate (GB/s or TFLOP/s) that scripts/gpu_report.py divides by its ceiling.
// Bytes count each input read once and the output written once; a product is 2 n^3 FLOPs.
//
// A small harness rather than Google Benchmark: each figure is the median of N runs, each run
// timed by its own pair of CUDA events on the legacy default stream (where graft's kernels
// run), after warm-up runs that keep module loading, cuBLAS handle creation and the caching
// allocator's first cudaMalloc out of the numbers. N is sized so that the timed runs take
// about kTargetMs (between kMinRuns and kMaxRuns). It needs no library beyond the CUDA
// runtime, so the binary carried to the GPU machine (scripts/gpu_carry.sh) runs there alone.
//
// Inputs are 256 MB (64M float32; (8192, 8192) as a matrix), far above the 50 MB L2 of an
// H100, so every pass streams from device memory. They are filled on the host by an LCG with
// values in [-scale, scale): no zeros, and no dependence on graft's random kernels. Before a
// figure is timed its result is checked against a double-precision reference on sampled
// elements; the worst relative error goes into the output beside the timing.
//
// Output: one JSON object per line on stdout (written as each figure completes, so a crash or
// a timeout keeps the figures before it), a readable table on stderr.
// Usage: cuda_bench [SUBSTRING...]   runs the figures whose name holds any SUBSTRING (all).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <graft/graft.h>

#include "graft/kernels/cuda/runtime.h"
#include "tensor_core_shapes.h"

namespace {

using graft::Shape;
using graft::Tensor;

constexpr int64_t kNumel = int64_t{1} << 26;  // 64M float32 = 256 MB
constexpr int64_t kSide = 8192;               // (8192, 8192) float32 = 256 MB
constexpr int64_t kMatmulSide = 4096;
constexpr double kFloatBytes = sizeof(float);

constexpr int kWarmupRuns = 3;
constexpr double kTargetMs = 300;
constexpr int kMinRuns = 10;
constexpr int kMaxRuns = 200;
constexpr int kSamples = 4096;  // sampled elements checked per result

void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

// A float32 tensor on the GPU with values in [-scale, scale) (Numerical Recipes' LCG), and
// its host twin for the references.
struct Input {
  Tensor host, device;
  const float* data() const { return host.data_ptr<float>(); }
};
Input make_input(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  Tensor host = graft::empty(shape, graft::kFloat32);
  float* p = host.data_ptr<float>();
  uint32_t state = seed;
  for (int64_t i = 0; i < host.numel(); ++i) {
    state = state * 1664525u + 1013904223u;
    p[i] = scale * (static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f);
  }
  return {host, host.to(graft::Device::cuda())};
}

// The first and last index below n and kSamples more spread by an LCG.
std::vector<int64_t> sample_indices(int64_t n, int count = kSamples) {
  std::vector<int64_t> out{0, n - 1};
  uint64_t state = 12345;
  for (int i = 0; i < count; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out.push_back(static_cast<int64_t>((state >> 11) % static_cast<uint64_t>(n)));
  }
  return out;
}

// The worst |got - want| / scale over the sampled elements of a GPU result; `reference(i)`
// gives {want, scale} for flat index i in double precision.
double worst_error(const Tensor& got_device, int samples,
                   const std::function<std::pair<double, double>(int64_t)>& reference) {
  const Tensor got = got_device.contiguous().cpu();
  const float* g = got.data_ptr<float>();
  double worst = 0;
  for (int64_t i : sample_indices(got.numel(), samples)) {
    const auto [want, scale] = reference(i);
    const double err = std::abs(static_cast<double>(g[i]) - want) / std::max(scale, 1e-30);
    worst = std::isnan(err) ? INFINITY : std::max(worst, err);
  }
  return worst;
}

struct Timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int runs = 0;
};

// Warm-up, then N runs each between its own pair of events; the median of their times.
Timing time_on_gpu(const std::function<void()>& run) {
  for (int i = 0; i < kWarmupRuns; ++i) run();
  check_cuda(cudaDeviceSynchronize(), "warm-up");
  std::vector<cudaEvent_t> events(2 * kMaxRuns);
  for (cudaEvent_t& e : events) check_cuda(cudaEventCreate(&e), "cudaEventCreate");
  const auto timed = [&](int runs) {
    for (int i = 0; i < runs; ++i) {
      check_cuda(cudaEventRecord(events[2 * i], nullptr), "cudaEventRecord");
      run();
      check_cuda(cudaEventRecord(events[2 * i + 1], nullptr), "cudaEventRecord");
    }
    check_cuda(cudaDeviceSynchronize(), "timed runs");
    std::vector<double> ms(runs);
    for (int i = 0; i < runs; ++i) {
      float t = 0;
      check_cuda(cudaEventElapsedTime(&t, events[2 * i], events[2 * i + 1]), "elapsed");
      ms[i] = t;
    }
    std::sort(ms.begin(), ms.end());
    return ms;
  };
  const double estimate = timed(1)[0];
  const int runs =
      std::clamp(static_cast<int>(kTargetMs / std::max(estimate, 1e-3)), kMinRuns, kMaxRuns);
  const std::vector<double> ms = timed(runs);
  for (cudaEvent_t e : events) check_cuda(cudaEventDestroy(e), "cudaEventDestroy");
  return {ms[ms.size() / 2], ms.front(), ms.back(), runs};
}

// One figure: `work` bytes (GB/s) or FLOPs (TFLOP/s) per run of `run`; `error` computes the
// result once and returns its worst sampled error, which must stay within `tolerance`.
// `note` goes into the output's message when all is well.
struct Case {
  std::string name, group, unit;
  double work;
  std::function<void()> run;
  std::function<double()> error;
  double tolerance;
  std::string note = "";
};

// %.3g of x: std::to_string's fixed six decimals would print an error of 1e-7 as 0.
std::string short_number(double x) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", x);
  return text;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  return out + "\"";
}

// Checks, times and prints one case; a graft::Error or CUDA error becomes status "failed",
// a tensor-core block shape this GPU cannot run "skipped". A result outside its tolerance is
// "wrong" and still timed.
void run_case(const Case& c) {
  std::string status = "ok", message = c.note;
  double error = NAN;
  Timing t;
  try {
    error = c.error();
    if (!(error <= c.tolerance)) {
      status = "wrong";
      message =
          "worst sampled relative error " + short_number(error) + " > " + short_number(c.tolerance);
    }
    t = time_on_gpu(c.run);  // timed even when wrong: how far off and how fast both help
  } catch (const graft::bench::ShapeUnavailable& e) {
    status = "skipped";
    message = e.what();
  } catch (const std::exception& e) {
    status = "failed";
    message = e.what();
  }
  const double scale = c.unit == "TFLOP/s" ? 1e12 : 1e9;
  const double rate = t.runs > 0 ? c.work / (t.median_ms * 1e-3) / scale : 0;
  std::printf(
      "{\"name\": %s, \"group\": %s, \"unit\": %s, \"work\": %.0f, \"median_ms\": %.6g, "
      "\"min_ms\": %.6g, \"max_ms\": %.6g, \"runs\": %d, \"rate\": %.6g, \"error\": %s, "
      "\"tolerance\": %.3g, \"status\": %s, \"message\": %s}\n",
      json_string(c.name).c_str(), json_string(c.group).c_str(), json_string(c.unit).c_str(),
      c.work, t.median_ms, t.min_ms, t.max_ms, t.runs, rate,
      std::isfinite(error) ? short_number(error).c_str() : "null", c.tolerance,
      json_string(status).c_str(), json_string(message).c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%-28s %10.4f ms %10.2f %-8s %s %s\n", c.name.c_str(), t.median_ms, rate,
               c.unit.c_str(), status.c_str(), message.c_str());
}

// ---- the cases

std::vector<Case> bandwidth_cases(const Input& a, const Input& b, const Input& m,
                                  const Input& row) {
  const double tensor = kNumel * kFloatBytes;
  const Tensor dst =
      graft::empty({kNumel}, graft::TensorOptions(graft::kFloat32).device(graft::Device::cuda()));
  const float *pa = a.data(), *pb = b.data(), *pm = m.data(), *pr = row.data();
  const auto elementwise = [](std::function<Tensor()> op,
                              std::function<std::pair<double, double>(int64_t)> want) {
    return [op, want] { return worst_error(op(), kSamples, want); };
  };
  const auto copied = [=](int64_t i) { return std::pair{double(pa[i]), std::abs(double(pa[i]))}; };
  // The copies write into dst: poison it (all bits set is a NaN) so unwritten elements show.
  const auto poisoned = [dst] {
    check_cuda(cudaMemset(dst.data_ptr(), 0xFF, dst.nbytes()), "cudaMemset");
    return dst;
  };
  return {
      {"copy_", "ceiling", "GB/s", 2 * tensor, [=] { dst.copy_(a.device); },
       elementwise([=] { return poisoned().copy_(a.device); }, copied), 0},
      {"cudaMemcpy_d2d", "ceiling", "GB/s", 2 * tensor,
       [=] {
         check_cuda(cudaMemcpyAsync(dst.data_ptr(), a.device.data_ptr(), tensor,
                                    cudaMemcpyDeviceToDevice, nullptr),
                    "cudaMemcpyAsync");
       },
       elementwise(
           [=] {
             check_cuda(cudaMemcpy(poisoned().data_ptr(), a.device.data_ptr(), tensor,
                                   cudaMemcpyDeviceToDevice),
                        "cudaMemcpy");
             return dst;
           },
           copied),
       0},
      {"add", "elementwise", "GB/s", 3 * tensor, [=] { (void)(a.device + b.device); },
       elementwise([=] { return a.device + b.device; },
                   [=](int64_t i) {
                     return std::pair{double(pa[i]) + pb[i], std::abs(pa[i]) + std::abs(pb[i])};
                   }),
       1e-6},
      {"mul_scalar", "elementwise", "GB/s", 2 * tensor, [=] { (void)(a.device * 2.0f); },
       elementwise([=] { return a.device * 2.0f; },
                   [=](int64_t i) {
                     return std::pair{2.0 * pa[i], std::abs(2.0 * pa[i])};
                   }),
       1e-6},
      {"broadcast_add", "elementwise", "GB/s", 2 * tensor + kSide * kFloatBytes,
       [=] { (void)(m.device + row.device); },
       elementwise([=] { return m.device + row.device; },
                   [=](int64_t i) {
                     return std::pair{double(pm[i]) + pr[i % kSide],
                                      std::abs(pm[i]) + std::abs(pr[i % kSide])};
                   }),
       1e-6},
      {"exp", "elementwise", "GB/s", 2 * tensor, [=] { (void)a.device.exp(); },
       elementwise([=] { return a.device.exp(); },
                   [=](int64_t i) {
                     const double e = std::exp(double(pa[i]));
                     return std::pair{e, e};
                   }),
       4e-6},
  };
}

// a + b in float16 and bfloat16: half float32's bytes an element, so the same GB/s is twice
// the elements a second; each load widens to float and each store rounds once. The result
// is within half an ulp of the 16-bit type of the exact sum (2^-11 and 2^-8 relative).
std::vector<Case> half_cases(const Input& a, const Input& b) {
  std::vector<Case> cases;
  const double tensor = kNumel * 2.0;
  for (const auto& [name, dtype, tolerance] :
       {std::tuple{"add_float16", graft::kFloat16, 0x1p-11},
        std::tuple{"add_bfloat16", graft::kBFloat16, 0x1p-8}}) {
    const Tensor a16 = a.device.to(dtype), b16 = b.device.to(dtype);
    // The inputs' 16-bit values, exactly, as floats on the host.
    const Tensor a_host = a16.to(graft::kFloat32).cpu(), b_host = b16.to(graft::kFloat32).cpu();
    const float *pa = a_host.data_ptr<float>(), *pb = b_host.data_ptr<float>();
    cases.push_back(
        {name, "elementwise", "GB/s", 3 * tensor, [=] { (void)(a16 + b16); },
         [=] {
           return worst_error((a16 + b16).to(graft::kFloat32), kSamples, [=](int64_t i) {
             return std::pair{double(pa[i]) + pb[i], std::abs(double(pa[i]) + pb[i])};
           });
         },
         tolerance});
  }
  return cases;
}

std::vector<Case> reduction_cases(const Input& m) {
  const double matrix = kSide * kSide * kFloatBytes, line = kSide * kFloatBytes;
  const float* pm = m.data();
  // {sum, sum of |x|} of n elements of m starting at `first`, `step` apart, in double.
  const auto line_sum = [pm](int64_t first, int64_t step, int64_t n) {
    double s = 0, s_abs = 0;
    for (int64_t k = 0; k < n; ++k) {
      s += pm[first + k * step];
      s_abs += std::abs(pm[first + k * step]);
    }
    return std::pair{s, s_abs};
  };
  return {
      {"sum_all", "reduction", "GB/s", matrix + kFloatBytes, [=] { (void)graft::sum(m.device); },
       [=] {
         return worst_error(graft::sum(m.device), 1,
                            [&](int64_t) { return line_sum(0, 1, kSide * kSide); });
       },
       1e-5},
      {"sum_dim0", "reduction", "GB/s", matrix + line, [=] { (void)graft::sum(m.device, {0}); },
       [=] {
         return worst_error(graft::sum(m.device, {0}), 256,
                            [&](int64_t j) { return line_sum(j, kSide, kSide); });
       },
       1e-5},
      {"sum_dim1", "reduction", "GB/s", matrix + line, [=] { (void)graft::sum(m.device, {1}); },
       [=] {
         return worst_error(graft::sum(m.device, {1}), 256,
                            [&](int64_t i) { return line_sum(i * kSide, 1, kSide); });
       },
       1e-5},
  };
}

// Row softmax of a (rows, cols) input: reads it once and writes the result once.
Case softmax_case(const std::string& name, const Input& x) {
  const int64_t rows = x.host.size(0), cols = x.host.size(1);
  const float* px = x.data();
  return {name,
          "softmax",
          "GB/s",
          2.0 * rows * cols * kFloatBytes,
          [=] { (void)graft::softmax(x.device, -1); },
          [=] {
            return worst_error(graft::softmax(x.device, -1), kSamples, [&](int64_t i) {
              const float* r = px + i / cols * cols;
              double hi = r[0], denom = 0;
              for (int64_t j = 0; j < cols; ++j) hi = std::max(hi, double(r[j]));
              for (int64_t j = 0; j < cols; ++j) denom += std::exp(r[j] - hi);
              const double want = std::exp(r[i % cols] - hi) / denom;
              return std::pair{want, want};
            });
          },
          1e-4};
}

// Causal attention over (B, H, T, D) = (4, 16, 2048, 64) in a 16-bit dtype, as a GPT's
// training step runs it: the forward alone, and the forward with the backward (the gradients
// of q, k and v for a fixed upstream gradient). FLOPs as FlashAttention counts them: the
// forward's two products, 4 B H T^2 D, halved by the causal mask; the backward 2.5 times
// the forward. The forward's output is checked on sampled elements against a double-precision
// reference on the values the GPU sees, relative to sum_j p_j |v_jd| (the terms' size).
constexpr int64_t kAttnBatch = 4, kAttnHeads = 16, kAttnTokens = 2048, kAttnDim = 64;

std::vector<Case> attention_cases(const Input& q, const Input& k, const Input& v,
                                  const Input& grad_out, graft::DType dtype) {
  namespace F = graft::nn::functional;
  const Tensor dq = q.device.to(dtype), dk = k.device.to(dtype), dv = v.device.to(dtype);
  const Tensor dg = grad_out.device.to(dtype);
  const Tensor hq = q.host.to(dtype).to(graft::kFloat32), hk = k.host.to(dtype).to(graft::kFloat32);
  const Tensor hv = v.host.to(dtype).to(graft::kFloat32);
  const auto error = [=] {
    const Tensor got = F::scaled_dot_product_attention(dq, dk, dv, {}, 0.0, true);
    const float *pq = hq.data_ptr<float>(), *pk = hk.data_ptr<float>(), *pv = hv.data_ptr<float>();
    return worst_error(got.to(graft::kFloat32), 64, [&](int64_t i) {
      const int64_t d = i % kAttnDim, t = i / kAttnDim % kAttnTokens;
      const int64_t plane = i / (kAttnDim * kAttnTokens) * kAttnTokens * kAttnDim;
      const float* query = pq + plane + t * kAttnDim;
      std::vector<double> scores(t + 1);
      double hi = -INFINITY;
      for (int64_t j = 0; j <= t; ++j) {
        double dot = 0;
        for (int64_t e = 0; e < kAttnDim; ++e)
          dot += double(query[e]) * pk[plane + j * kAttnDim + e];
        scores[j] = dot / std::sqrt(double(kAttnDim));
        hi = std::max(hi, scores[j]);
      }
      double denom = 0, sum = 0, size = 0;
      for (int64_t j = 0; j <= t; ++j) denom += std::exp(scores[j] - hi);
      for (int64_t j = 0; j <= t; ++j) {
        const double p = std::exp(scores[j] - hi) / denom, value = pv[plane + j * kAttnDim + d];
        sum += p * value;
        size += p * std::abs(value);
      }
      return std::pair{sum, size};
    });
  };
  const double forward = 4.0 * kAttnBatch * kAttnHeads * kAttnTokens * kAttnTokens * kAttnDim / 2;
  const std::string prefix = std::string("attention_") + graft::dtype_name(dtype);
  const double tolerance = dtype == graft::kBFloat16 ? 1e-2 : 2e-3;
  const auto forward_and_backward = [=] {
    const Tensor lq = dq.detach().requires_grad_(), lk = dk.detach().requires_grad_();
    const Tensor lv = dv.detach().requires_grad_();
    const Tensor out = F::scaled_dot_product_attention(lq, lk, lv, {}, 0.0, true);
    (void)graft::autograd::grad({out}, {lq, lk, lv}, {.grad_outputs = {dg}});
  };
  return {
      {prefix + "_fwd", "attention", "TFLOP/s", forward,
       [=] { (void)F::scaled_dot_product_attention(dq, dk, dv, {}, 0.0, true); }, error, tolerance},
      {prefix + "_fwd_bwd", "attention", "TFLOP/s", 3.5 * forward, forward_and_backward, error,
       tolerance}};
}

// The product under test: out = a b for the case's device operands.
using Product = std::function<Tensor(const Tensor&, const Tensor&)>;

// C = A B, (4096, 4096) each, in `dtype` (float32, or float16 / bfloat16 for the tensor
// cores), by `product`. 16-bit figures are named matmul_<dtype>_<suffix> and grouped apart,
// so each dtype is measured against cuBLAS in that dtype.
// The error is relative to sum_k |a_ik b_kj|, so it reads as "fractions of the terms' size":
// float32 accumulation lands near 1e-7, TF32 operands at 1e-5 or more, and a 16-bit output's
// own rounding at up to 2^-11 (float16) or 2^-8 (bfloat16). The reference multiplies the
// values the GPU sees, the inputs rounded to `dtype`.
Case product_case(const std::string& suffix, const Product& product, const Input& a, const Input& b,
                  graft::DType dtype, const std::string& note) {
  const int64_t n = kMatmulSide;
  const Tensor da = a.device.to(dtype), db = b.device.to(dtype);
  const Tensor ha = a.host.to(dtype).to(graft::kFloat32), hb = b.host.to(dtype).to(graft::kFloat32);
  const std::string prefix =
      dtype == graft::kFloat32 ? "matmul" : std::string("matmul_") + graft::dtype_name(dtype);
  return {prefix + "_" + suffix,
          prefix,
          "TFLOP/s",
          2.0 * n * n * n,
          [=] { (void)product(da, db); },
          [=] {
            const Tensor got = product(da, db).to(graft::kFloat32);
            const float *pa = ha.data_ptr<float>(), *pb = hb.data_ptr<float>();
            return worst_error(got, 256, [&](int64_t ij) {
              const int64_t i = ij / n, j = ij % n;
              double s = 0, s_abs = 0;
              for (int64_t k = 0; k < n; ++k) {
                s += double(pa[i * n + k]) * pb[k * n + j];
                s_abs += std::abs(double(pa[i * n + k]) * pb[k * n + j]);
              }
              return std::pair{s, s_abs};
            });
          },
          dtype == graft::kBFloat16 ? 8e-3 : 1e-3,
          note};
}

// graft::matmul with the matmul variant `variant` (empty: the one graft uses by default,
// named in the note).
Case matmul_case(const std::string& variant, const Input& a, const Input& b,
                 graft::DType dtype = graft::kFloat32) {
  const Product product = [variant](const Tensor& x, const Tensor& y) {
    if (!variant.empty()) graft::cuda::set_matmul_variant(variant);
    return graft::matmul(x, y);
  };
  return product_case(variant.empty() ? "default" : variant, product, a, b, dtype,
                      variant.empty() ? "the default is " + graft::cuda::matmul_variant() : "");
}

// The tensor-core kernel in block shape `shape` of tensor_core_shapes() (the first is the
// library's), named matmul_<dtype>_tensor_core_<shape>.
Case tensor_core_shape_case(size_t shape, const Input& a, const Input& b, graft::DType dtype) {
  const Product product = [shape, dtype](const Tensor& x, const Tensor& y) {
    Tensor out = graft::empty({kMatmulSide, kMatmulSide},
                              graft::TensorOptions(dtype).device(graft::Device::cuda()));
    graft::bench::tensor_core_product(shape, dtype, x.data_ptr(), y.data_ptr(), out.data_ptr(),
                                      kMatmulSide);
    return out;
  };
  const std::string name = graft::bench::tensor_core_shapes()[shape];
  return product_case("tensor_core_" + name, product, a, b, dtype,
                      shape == 0 ? "the library's shape" : "");
}

bool selected(const std::string& name, const std::vector<std::string>& filters) {
  if (filters.empty()) return true;
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& f) { return name.find(f) != std::string::npos; });
}

}  // namespace

int main(int argc, char** argv) {
  if (!graft::cuda::is_available()) {
    std::fprintf(stderr, "cuda_bench: no CUDA device (or a build without the CUDA backend)\n");
    return 2;
  }
  const std::vector<std::string> filters(argv + 1, argv + argc);
  cudaDeviceProp prop{};
  check_cuda(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf(
      "{\"name\": \"device\", \"group\": \"device\", \"gpu\": %s, \"sm\": \"%d.%d\", "
      "\"multiprocessors\": %d, \"l2_bytes\": %d, \"memory_bytes\": %zu, "
      "\"input_bytes\": %.0f}\n",
      json_string(prop.name).c_str(), prop.major, prop.minor, prop.multiProcessorCount,
      prop.l2CacheSize, prop.totalGlobalMem, kNumel * kFloatBytes);
  std::fflush(stdout);

  const Input a = make_input({kNumel}, 1), b = make_input({kNumel}, 2);
  const Input m = make_input({kSide, kSide}, 3), row = make_input({kSide}, 4);
  // Scaled so that each row's maximum matters: exp of unshifted values would overflow.
  const Input wide = make_input({kSide, kSide}, 5, 30.0f);
  const Input tall = make_input({65536, 1024}, 6, 30.0f);
  const Input ma = make_input({kMatmulSide, kMatmulSide}, 7);
  const Input mb = make_input({kMatmulSide, kMatmulSide}, 8);

  std::vector<Case> cases = bandwidth_cases(a, b, m, row);
  for (Case& c : half_cases(a, b)) cases.push_back(std::move(c));
  for (Case& c : reduction_cases(m)) cases.push_back(std::move(c));
  cases.push_back(softmax_case("softmax_8192x8192", wide));
  cases.push_back(softmax_case("softmax_65536x1024", tall));
  const Shape heads = {kAttnBatch, kAttnHeads, kAttnTokens, kAttnDim};
  const Input q = make_input(heads, 9), k = make_input(heads, 10), v = make_input(heads, 11);
  const Input grad_out = make_input(heads, 12);
  for (const graft::DType dtype : {graft::kBFloat16, graft::kFloat16})
    for (Case& c : attention_cases(q, k, v, grad_out, dtype)) cases.push_back(std::move(c));
  // The default first (before any case selects a variant), then cuBLAS (the ceiling), then
  // every hand-written variant.
  cases.push_back(matmul_case("", ma, mb));
  cases.push_back(matmul_case("cublas", ma, mb));
  for (const auto& v : graft::cuda::matmul_variants()) {
    const std::string variant(v);
    if (variant != "cublas") cases.push_back(matmul_case(variant, ma, mb));
  }
  // The 16-bit products: cuBLAS (cublasGemmEx, tensor cores) as the ceiling, then the
  // tensor-core kernel and the SIMT one it replaces.
  // Then the tensor-core kernel in each candidate block shape (tensor_core_shapes.h).
  for (const graft::DType dtype : {graft::kBFloat16, graft::kFloat16}) {
    for (const char* variant : {"cublas", "tensor_core", "warp_tiled"})
      cases.push_back(matmul_case(variant, ma, mb, dtype));
    for (size_t shape = 0; shape < graft::bench::tensor_core_shapes().size(); ++shape)
      cases.push_back(tensor_core_shape_case(shape, ma, mb, dtype));
  }
  for (const Case& c : cases)
    if (selected(c.name, filters)) run_case(c);
  return 0;
}
