// The single-op workloads of the versus benchmark: host overhead, elementwise, broadcast,
// reductions, softmax, sorting, scans, functions and indexing, matmul, the CNN's convolutions,
// the transformer's layer norm and attention, and bfloat16 forms. torch_worker.py builds the
// same names from the same shapes; the inputs are standard normal in both.
#include <graft/graft.h>

#include <string>
#include <vector>

#include "workload.h"

namespace graft::versus {
namespace {

// "1M" -> a (1024, 1024) matrix, "16M" -> (4096, 4096): square, so a row vector broadcasts.
const std::vector<std::pair<std::string, int64_t>> kSizes = {{"1M", 1024}, {"16M", 4096}};

// Keeps a result alive past the timed call so the work cannot be skipped (it cannot be in
// any case: every graft op runs its kernel eagerly), and drops it at the next run.
Tensor sink;

Workload unary(std::function<Tensor()> op) {
  return repeated([op = std::move(op)] { sink = op(); });
}

void add_overhead(std::map<std::string, WorkloadFactory>& registry) {
  registry["add_1elem"] = [](Device device) {
    const Tensor a = randn({1}, device), b = randn({1}, device);
    return unary([a, b] { return a + b; });
  };
  // Ten small ops in a row, as a model's glue code runs them: tensor-tensor, tensor-scalar
  // and unary, each allocating its result.
  registry["chain10_1elem"] = [](Device device) {
    const Tensor a = randn({1}, device), b = randn({1}, device);
    Workload w = unary([a, b] {
      Tensor t = a + b;
      t = t * 2.0;
      t = t - a;
      t = exp(t);
      t = t / b;
      t = relu(t);
      t = t + 1.0;
      t = t * a;
      t = tanh(t);
      return t - b;
    });
    w.ops_per_run = 10;
    return w;
  };
}

void add_elementwise(std::map<std::string, WorkloadFactory>& registry) {
  for (const auto& [label, side] : kSizes) {
    registry["add_" + label] = [side](Device device) {
      const Tensor a = randn({side, side}, device), b = randn({side, side}, device);
      return unary([a, b] { return a + b; });
    };
    registry["mul_scalar_" + label] = [side](Device device) {
      const Tensor a = randn({side, side}, device);
      return unary([a] { return a * 2.0; });
    };
    registry["exp_" + label] = [side](Device device) {
      const Tensor a = randn({side, side}, device);
      return unary([a] { return exp(a); });
    };
    registry["broadcast_add_" + label] = [side](Device device) {
      const Tensor a = randn({side, side}, device), row = randn({side}, device);
      return unary([a, row] { return a + row; });
    };
    registry["transposed_add_" + label] = [side](Device device) {
      const Tensor a = randn({side, side}, device), b = randn({side, side}, device);
      return unary([a, b] { return a.t() + b; });
    };
  }
}

void add_reductions(std::map<std::string, WorkloadFactory>& registry) {
  using Reduction = Tensor (*)(const Tensor&, const Dims&, bool);
  const std::vector<std::pair<std::string, Reduction>> reductions = {
      {"sum", &sum}, {"mean", &mean}, {"max", &max}};
  for (const auto& [op, reduce] : reductions) {
    for (const auto& [label, side] : kSizes) {
      for (const int64_t dim : {0, 1}) {
        const std::string name = op + "_dim" + std::to_string(dim) + "_" + label;
        registry[name] = [side, dim, reduce](Device device) {
          const Tensor x = randn({side, side}, device);
          return unary([x, dim, reduce] { return reduce(x, {dim}, false); });
        };
      }
    }
  }
}

void add_softmax(std::map<std::string, WorkloadFactory>& registry) {
  // A classifier's batch of logits, and a wide one that streams from memory.
  for (const auto& [rows, cols] :
       std::vector<std::pair<int64_t, int64_t>>{{64, 10}, {16384, 1024}}) {
    registry["softmax_" + std::to_string(rows) + "x" + std::to_string(cols)] =
        [rows, cols](Device device) {
          const Tensor x = randn({rows, cols}, device);
          return unary([x] { return softmax(x, -1); });
        };
  }
}

// One long line (on CUDA, the bitonic network's global merge passes) and a top-k over many
// rows, as a sampler or a retrieval head takes it. Only the values are kept in the sink;
// both ops compute the indices too, in graft and in PyTorch.
void add_sorting(std::map<std::string, WorkloadFactory>& registry) {
  registry["sort_1M"] = [](Device device) {
    const Tensor x = randn({1 << 20}, device);
    return unary([x] { return std::get<0>(sort(x)); });
  };
  registry["topk10_4096x4096"] = [](Device device) {
    const Tensor x = randn({4096, 4096}, device);
    return unary([x] { return std::get<0>(topk(x, 10)); });
  };
}

// A running sum along one long line (16M elements), and along the rows of a (4096, 4096).
void add_scans(std::map<std::string, WorkloadFactory>& registry) {
  registry["cumsum_16M"] = [](Device device) {
    const Tensor x = randn({int64_t{1} << 24}, device);
    return unary([x] { return cumsum(x, 0); });
  };
  registry["cumsum_dim1_16M"] = [](Device device) {
    const Tensor x = randn({4096, 4096}, device);
    return unary([x] { return cumsum(x, 1); });
  };
}

// Functions the C library computes one element at a time (a vectorised form of graft's own
// for each, kernels/cpu/array_math.h), and the index ops a model's bookkeeping takes: each
// over (1024, 1024); pow's bases and log1p's inputs are |a| + 0.5, tril keeps the lower half.
void add_functions_and_indexing(std::map<std::string, WorkloadFactory>& registry) {
  constexpr int64_t kSide = 1024;
  const auto square = [](Device device) { return randn({kSide, kSide}, device); };
  const auto positive = [square](Device device) { return square(device).abs() + 0.5; };
  const auto signs = [square](Device device) { return square(device) > 0; };
  // A workload timing op on one input that `input` makes.
  const auto on_one = [](auto input, auto op) {
    return [=](Device device) {
      const Tensor a = input(device);
      return unary([a, op] { return op(a); });
    };
  };
  registry["fmod_scalar_1M"] = on_one(square, [](const Tensor& a) { return fmod(a, 0.7); });
  registry["remainder_scalar_1M"] =
      on_one(square, [](const Tensor& a) { return remainder(a, 0.7); });
  registry["atan2_1M"] = [square](Device device) {
    const Tensor a = square(device), b = square(device);
    return unary([a, b] { return atan2(a, b); });
  };
  registry["pow_scalar_1M"] = on_one(positive, [](const Tensor& a) { return pow(a, 2.5); });
  registry["pow_tensor_1M"] = [positive, square](Device device) {
    const Tensor a = positive(device), b = square(device);
    return unary([a, b] { return pow(a, b); });
  };
  registry["sin_1M"] = on_one(square, [](const Tensor& a) { return sin(a); });
  registry["tan_1M"] = on_one(square, [](const Tensor& a) { return tan(a); });
  registry["expm1_1M"] = on_one(square, [](const Tensor& a) { return expm1(a); });
  registry["log1p_1M"] = on_one(positive, [](const Tensor& a) { return log1p(a); });
  registry["argmax_dim1_1M"] = on_one(square, [](const Tensor& a) { return argmax(a, 1); });
  registry["prod_dim1_1M"] = on_one(square, [](const Tensor& a) { return prod(a, {1}); });
  registry["clamp_1M"] = on_one(square, [](const Tensor& a) { return clamp(a, -0.5, 0.5); });
  registry["tril_1M"] = on_one(square, [](const Tensor& a) { return tril(a); });
  registry["nonzero_1M"] = on_one(signs, [](const Tensor& mask) { return nonzero(mask); });
  registry["mask_index_1M"] = [square, signs](Device device) {
    const Tensor a = square(device), mask = signs(device);
    return unary([a, mask] { return a.index({mask}); });
  };
  // Rows (or columns) 37 k mod 1024: every one once, in a scattered order.
  const auto scattered = [](Device device) {
    return remainder(arange(kSide, TensorOptions(kInt64).device(device)) * 37, kSide);
  };
  for (const int64_t dim : {0, 1}) {
    registry["index_select_dim" + std::to_string(dim) + "_1M"] = [=](Device device) {
      const Tensor a = square(device), index = scattered(device);
      return unary([a, index, dim] { return index_select(a, dim, index); });
    };
  }
  // Each source row added into target row 37 i mod 1024 (a segment sum, as index_add).
  registry["scatter_add_dim0_1M"] = [=](Device device) {
    const Tensor base = zeros({kSide, kSide}, device), a = square(device);
    const Tensor index = scattered(device).unsqueeze(1).expand({kSide, kSide}).contiguous();
    return unary([base, index, a] { return scatter_add(base, 0, index, a); });
  };
}

void add_matmul(std::map<std::string, WorkloadFactory>& registry) {
  for (const int64_t n : {128, 256, 512, 1024, 2048}) {
    registry["matmul_" + std::to_string(n)] = [n](Device device) {
      const Tensor a = randn({n, n}, device), b = randn({n, n}, device);
      return unary([a, b] { return matmul(a, b); });
    };
  }
  // A classifier's head, x @ w.t() for 10 classes: the CNN's (64, 3136) features.
  registry["linear_head_64x3136x10"] = [](Device device) {
    const Tensor x = randn({64, 3136}, device), w = randn({10, 3136}, device);
    return unary([x, w] { return matmul(x, w.t()); });
  };
}

// The CNN's two convolutions at batch 64 (3x3, padding 1). Forward + backward goes through
// autograd with every input requiring grad, and drops the gradients after each run so that
// no run pays for accumulating into the previous one's. The second also in bfloat16.
void add_conv(std::map<std::string, WorkloadFactory>& registry) {
  struct Layer {
    const char* name;
    int64_t in_channels, out_channels, side;
  };
  for (const Layer layer : {Layer{"conv1", 1, 32, 28}, Layer{"conv2", 32, 64, 14}}) {
    const auto inputs = [layer](Device device, DType dtype) {
      const auto normal = [&](const Shape& shape) { return randn(shape, device).to(dtype); };
      return std::vector<Tensor>{normal({64, layer.in_channels, layer.side, layer.side}),
                                 normal({layer.out_channels, layer.in_channels, 3, 3}),
                                 normal({layer.out_channels}),
                                 normal({64, layer.out_channels, layer.side, layer.side})};
    };
    const auto forward_backward = [inputs](DType dtype) {
      return [inputs, dtype](Device device) {
        const std::vector<Tensor> t = inputs(device, dtype);
        for (int i = 0; i < 3; ++i) t[i].requires_grad_();
        return repeated([t] {
          conv2d(t[0], t[1], t[2], 1, 1).backward(t[3]);
          for (int i = 0; i < 3; ++i) t[i].mutable_grad() = Tensor();
        });
      };
    };
    const std::string name = layer.name;
    registry[name + "_fwd"] = [inputs](Device device) {
      const std::vector<Tensor> t = inputs(device, kFloat32);
      return unary([t] { return conv2d(t[0], t[1], t[2], 1, 1); });
    };
    registry[name + "_fwd_bwd"] = forward_backward(kFloat32);
    if (name == "conv2") registry[name + "_fwd_bwd_bf16"] = forward_backward(kBFloat16);
  }
}

// The 16-bit formats: bfloat16, the one CPUs compute in (AVX512-BF16, AMX), and float16 (on
// the CPU, float32 arithmetic on widened values): an elementwise op, a sum, softmax and
// products over standard normal values rounded to `dtype`, the rows named with `suffix`.
// Causal attention over (batch, heads, length, head_dim) inputs of `dtype`, forward +
// backward through autograd as a training step runs it.
Workload causal_attention(const Shape& shape, DType dtype, Device device) {
  const auto input = [&] { return randn(shape, device).to(dtype); };
  const std::vector<Tensor> t = {input().requires_grad_(), input().requires_grad_(),
                                 input().requires_grad_(), input()};
  return repeated([t] {
    nn::functional::scaled_dot_product_attention(t[0], t[1], t[2], {}, 0.0, true).backward(t[3]);
    for (int i = 0; i < 3; ++i) t[i].mutable_grad() = Tensor();
  });
}

void add_16_bit(std::map<std::string, WorkloadFactory>& registry, DType dtype,
                const std::string& suffix) {
  const auto normal = [dtype](int64_t rows, int64_t cols, Device device) {
    return randn({rows, cols}, device).to(dtype);
  };
  registry["add_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device), b = normal(1024, 1024, device);
    return unary([a, b] { return a + b; });
  };
  registry["exp_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return exp(a); });
  };
  registry["sum_dim1_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return sum(a, {1}); });
  };
  registry["softmax_1024x1024_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return softmax(a, -1); });
  };
  // The 16-bit paths a sweep found slow (docs/performance.md, "16-bit floats off their fast
  // paths"): a sign-bit op, reductions over each dim, a scan.
  registry["abs_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return abs(a); });
  };
  registry["sum_dim0_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return sum(a, {0}); });
  };
  registry["max_dim0_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return max(a, {0}); });
  };
  registry["argmax_dim1_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return argmax(a, 1); });
  };
  registry["cumsum_dim1_1M_" + suffix] = [normal](Device device) {
    const Tensor a = normal(1024, 1024, device);
    return unary([a] { return cumsum(a, 1); });
  };
  for (const int64_t n : {256, 1024}) {
    registry["matmul_" + std::to_string(n) + "_" + suffix] = [normal, n](Device device) {
      const Tensor a = normal(n, n, device), b = normal(n, n, device);
      return unary([a, b] { return matmul(a, b); });
    };
  }
  registry["attention_fwd_bwd_4x6x256x64_" + suffix] = [dtype](Device device) {
    return causal_attention({4, 6, 256, 64}, dtype, device);
  };
}

// The transformer's pieces at the GPT configs' shapes (issue 14): layer norm over the
// width of (batch * context) rows, and causal attention, forward + backward through
// autograd as a training step runs them. cpu: batch 12, context 64, width 128, 4 heads;
// gpu: batch 64, context 256, width 384, 6 heads (4 here: the sequence per head is what
// matters).
void add_transformer(std::map<std::string, WorkloadFactory>& registry) {
  for (const auto& [rows, cols] :
       std::vector<std::pair<int64_t, int64_t>>{{768, 128}, {16384, 384}}) {
    const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
    const auto inputs = [rows, cols](Device device) {
      return std::vector<Tensor>{randn({rows, cols}, device), randn({cols}, device),
                                 randn({cols}, device), randn({rows, cols}, device)};
    };
    registry["layer_norm_" + shape] = [inputs, cols](Device device) {
      const std::vector<Tensor> t = inputs(device);
      return unary([t, cols] { return nn::functional::layer_norm(t[0], {cols}, t[1], t[2]); });
    };
    registry["layer_norm_fwd_bwd_" + shape] = [inputs, cols](Device device) {
      const std::vector<Tensor> t = inputs(device);
      for (int i = 0; i < 3; ++i) t[i].requires_grad_();
      return repeated([t, cols] {
        nn::functional::layer_norm(t[0], {cols}, t[1], t[2]).backward(t[3]);
        for (int i = 0; i < 3; ++i) t[i].mutable_grad() = Tensor();
      });
    };
  }
  struct Attention {
    const char* name;
    int64_t batch, heads, length, head_dim;
  };
  for (const Attention a : {Attention{"attention_fwd_bwd_12x4x64x32", 12, 4, 64, 32},
                            Attention{"attention_fwd_bwd_4x6x256x64", 4, 6, 256, 64}}) {
    registry[a.name] = [a](Device device) {
      return causal_attention({a.batch, a.heads, a.length, a.head_dim}, kFloat32, device);
    };
  }
}

}  // namespace

void add_op_workloads(std::map<std::string, WorkloadFactory>& registry) {
  add_overhead(registry);
  add_elementwise(registry);
  add_reductions(registry);
  add_softmax(registry);
  add_sorting(registry);
  add_scans(registry);
  add_functions_and_indexing(registry);
  add_matmul(registry);
  add_conv(registry);
  add_transformer(registry);
  add_16_bit(registry, kBFloat16, "bf16");
  add_16_bit(registry, kFloat16, "f16");
}

}  // namespace graft::versus
