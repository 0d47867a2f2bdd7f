#!/usr/bin/env python3
"""PyTorch's half of the versus benchmark: the workloads of versus_graft, op for op.

    python3 torch_worker.py [--device cpu|cuda]

Speaks versus_graft's protocol (graft_worker.cpp): one JSON line when ready, then for each
request line "<workload> <target_seconds>" one JSON line with the seconds per op. The same
names build the same shapes as op_workloads.cpp and training_workloads.cpp; the timing is
the same: one warm-up run, one run to size the batch, then as many runs as fill the target,
timed together, the GPU synchronised before each clock read; a training epoch runs once.
Threads: torch.set_num_threads(OMP_NUM_THREADS), one inter-op thread, as versus.py sets
OMP_NUM_THREADS for graft too. Needs torch and numpy (versus.py's virtual environment).
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SIZES = {"1M": 1024, "16M": 4096}
BATCH_SIZE = 64
EVAL_BATCH_SIZE = 1000
LEARNING_RATE = 1e-3
MEAN, STD = 0.2860, 0.3530  # graft::data::Normalize's Fashion-MNIST figures
DATA_ROOT = os.environ.get("GRAFT_DATA", "/usr/share/datasets/fashion-mnist")


class Workload:
    def __init__(self, run, ops_per_run=1, single_run=False, accuracy=None):
        self.run = run
        self.ops_per_run = ops_per_run
        self.single_run = single_run
        self.accuracy = accuracy


def op(fn):
    """A workload that calls fn and keeps its result until the next run, as graft's does."""
    def run():
        op.sink = fn()
    return Workload(run)


def op_workloads(device):
    registry = {}

    def with_inputs(fn, *shapes, dtype=torch.float32):
        """A factory: standard-normal inputs of `shapes` (rounded to dtype), then a workload
        timing fn(*inputs)."""
        def factory():
            inputs = [torch.randn(*shape, device=device).to(dtype) for shape in shapes]
            return op(lambda: fn(*inputs))
        return factory

    def ten_ops(a, b):
        t = a + b
        t = t * 2.0
        t = t - a
        t = torch.exp(t)
        t = t / b
        t = torch.relu(t)
        t = t + 1.0
        t = t * a
        t = torch.tanh(t)
        return t - b

    registry["add_1elem"] = with_inputs(lambda a, b: a + b, (1,), (1,))
    chain = with_inputs(ten_ops, (1,), (1,))
    registry["chain10_1elem"] = lambda: Workload(chain().run, ops_per_run=10)
    for label, side in SIZES.items():
        square = (side, side)
        registry["add_" + label] = with_inputs(lambda a, b: a + b, square, square)
        registry["mul_scalar_" + label] = with_inputs(lambda a: a * 2.0, square)
        registry["exp_" + label] = with_inputs(torch.exp, square)
        registry["broadcast_add_" + label] = with_inputs(lambda a, row: a + row, square, (side,))
        registry["transposed_add_" + label] = with_inputs(lambda a, b: a.t() + b, square, square)
        for name, reduce in (("sum", torch.sum), ("mean", torch.mean), ("max", torch.amax)):
            for dim in (0, 1):
                registry[f"{name}_dim{dim}_{label}"] = with_inputs(
                    lambda x, reduce=reduce, dim=dim: reduce(x, dim), square)
    for rows, cols in ((64, 10), (16384, 1024)):
        registry[f"softmax_{rows}x{cols}"] = with_inputs(lambda x: torch.softmax(x, -1), (rows, cols))
    # graft's sort is always stable, so PyTorch's is asked to be too: the same work.
    registry["sort_1M"] = with_inputs(lambda x: torch.sort(x, stable=True)[0], (1 << 20,))
    registry["topk10_4096x4096"] = with_inputs(lambda x: torch.topk(x, 10)[0], (4096, 4096))
    registry["cumsum_16M"] = with_inputs(lambda x: torch.cumsum(x, 0), (1 << 24,))
    registry["cumsum_dim1_16M"] = with_inputs(lambda x: torch.cumsum(x, 1), (4096, 4096))
    square = (1024, 1024)

    def prepared(fn, prepare, *shapes):
        """with_inputs, the inputs first passed through prepare (outside the timing)."""
        def factory():
            inputs = prepare(*[torch.randn(*shape, device=device) for shape in shapes])
            return op(lambda: fn(*inputs))
        return factory

    registry["fmod_scalar_1M"] = with_inputs(lambda x: torch.fmod(x, 0.7), square)
    registry["remainder_scalar_1M"] = with_inputs(lambda x: torch.remainder(x, 0.7), square)
    registry["atan2_1M"] = with_inputs(torch.atan2, square, square)
    registry["pow_scalar_1M"] = prepared(lambda a: torch.pow(a, 2.5), lambda x: [x.abs() + 0.5],
                                         square)
    registry["pow_tensor_1M"] = prepared(torch.pow, lambda x, y: [x.abs() + 0.5, y], square, square)
    registry["sin_1M"] = with_inputs(torch.sin, square)
    registry["tan_1M"] = with_inputs(torch.tan, square)
    registry["expm1_1M"] = with_inputs(torch.expm1, square)
    registry["log1p_1M"] = prepared(torch.log1p, lambda x: [x.abs() + 0.5], square)
    registry["argmax_dim1_1M"] = with_inputs(lambda x: torch.argmax(x, 1), square)
    registry["prod_dim1_1M"] = with_inputs(lambda x: torch.prod(x, 1), square)
    registry["clamp_1M"] = with_inputs(lambda x: torch.clamp(x, -0.5, 0.5), square)
    registry["tril_1M"] = with_inputs(torch.tril, square)
    registry["nonzero_1M"] = prepared(torch.nonzero, lambda x: [x > 0], square)
    registry["mask_index_1M"] = prepared(lambda a, m: a[m], lambda x, y: [x, y > 0], square, square)
    spread = lambda: torch.arange(1024, device=device) * 37 % 1024  # each of 1024 once, scattered
    scattered = lambda x: [x, spread()]
    for dim in (0, 1):
        registry[f"index_select_dim{dim}_1M"] = prepared(
            lambda a, i, dim=dim: torch.index_select(a, dim, i), scattered, square)
    registry["scatter_add_dim0_1M"] = prepared(
        lambda base, i, a: base.scatter_add(0, i, a),
        lambda x: [torch.zeros_like(x), spread().unsqueeze(1).expand(1024, 1024).contiguous(), x],
        square)
    for n in (128, 256, 512, 1024, 2048):
        registry[f"matmul_{n}"] = with_inputs(torch.matmul, (n, n), (n, n))
    registry["linear_head_64x3136x10"] = with_inputs(lambda x, w: x @ w.t(), (64, 3136), (10, 3136))
    for name, cin, cout, side in (("conv1", 1, 32, 28), ("conv2", 32, 64, 14)):
        def inputs(cin=cin, cout=cout, side=side, dtype=torch.float32):
            shapes = ((BATCH_SIZE, cin, side, side), (cout, cin, 3, 3), (cout,),
                      (BATCH_SIZE, cout, side, side))
            return [torch.randn(*shape, device=device).to(dtype) for shape in shapes]

        def forward(inputs=inputs):
            x, w, b, _ = inputs()
            return op(lambda: F.conv2d(x, w, b, 1, 1))

        def forward_backward(inputs=inputs, dtype=torch.float32):
            x, w, b, dy = inputs(dtype=dtype)
            for t in (x, w, b):
                t.requires_grad_()

            def run():
                F.conv2d(x, w, b, 1, 1).backward(dy)
                x.grad = w.grad = b.grad = None
            return Workload(run)
        registry[name + "_fwd"] = forward
        registry[name + "_fwd_bwd"] = forward_backward
        if name == "conv2":
            registry[name + "_fwd_bwd_bf16"] = (
                lambda forward_backward=forward_backward: forward_backward(dtype=torch.bfloat16))
    for rows, cols in ((768, 128), (16384, 384)):
        def ln_inputs(rows=rows, cols=cols):
            shapes = ((rows, cols), (cols,), (cols,), (rows, cols))
            return [torch.randn(*shape, device=device) for shape in shapes]

        def ln_forward(ln_inputs=ln_inputs, cols=cols):
            x, w, b, _ = ln_inputs()
            return op(lambda: F.layer_norm(x, (cols,), w, b))

        def ln_forward_backward(ln_inputs=ln_inputs, cols=cols):
            x, w, b, dy = ln_inputs()
            for t in (x, w, b):
                t.requires_grad_()

            def run():
                F.layer_norm(x, (cols,), w, b).backward(dy)
                x.grad = w.grad = b.grad = None
            return Workload(run)
        registry[f"layer_norm_{rows}x{cols}"] = ln_forward
        registry[f"layer_norm_fwd_bwd_{rows}x{cols}"] = ln_forward_backward
    def attention(shape, dtype=torch.float32):
        q, k, v, dy = (torch.randn(*shape, device=device).to(dtype) for _ in range(4))
        for t in (q, k, v):
            t.requires_grad_()

        def run():
            F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(dy)
            q.grad = k.grad = v.grad = None
        return Workload(run)
    for shape in ((12, 4, 64, 32), (4, 6, 256, 64)):
        registry["attention_fwd_bwd_" + "x".join(map(str, shape))] = \
            lambda shape=shape: attention(shape)
    square = (1024, 1024)
    for dtype, suffix in ((torch.bfloat16, "bf16"), (torch.float16, "f16")):
        registry[f"add_1M_{suffix}"] = with_inputs(lambda a, b: a + b, square, square, dtype=dtype)
        registry[f"exp_1M_{suffix}"] = with_inputs(torch.exp, square, dtype=dtype)
        registry[f"sum_dim1_1M_{suffix}"] = with_inputs(lambda x: torch.sum(x, 1), square,
                                                        dtype=dtype)
        registry[f"softmax_1024x1024_{suffix}"] = with_inputs(lambda x: torch.softmax(x, -1),
                                                              square, dtype=dtype)
        registry[f"abs_1M_{suffix}"] = with_inputs(torch.abs, square, dtype=dtype)
        registry[f"sum_dim0_1M_{suffix}"] = with_inputs(lambda x: torch.sum(x, 0), square,
                                                        dtype=dtype)
        registry[f"max_dim0_1M_{suffix}"] = with_inputs(lambda x: torch.amax(x, 0), square,
                                                        dtype=dtype)
        registry[f"argmax_dim1_1M_{suffix}"] = with_inputs(lambda x: torch.argmax(x, 1), square,
                                                           dtype=dtype)
        registry[f"cumsum_dim1_1M_{suffix}"] = with_inputs(lambda x: torch.cumsum(x, 1), square,
                                                           dtype=dtype)
        for n in (256, 1024):
            registry[f"matmul_{n}_{suffix}"] = with_inputs(torch.matmul, (n, n), (n, n),
                                                           dtype=dtype)
        registry[f"attention_fwd_bwd_4x6x256x64_{suffix}"] = \
            lambda dtype=dtype: attention((4, 6, 256, 64), dtype)
    return registry


def read_idx(name):
    """An IDX file of Fashion-MNIST as a numpy array (its own header gives the shape)."""
    with gzip.open(os.path.join(DATA_ROOT, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


_fashion_mnist = {}


def fashion_mnist(split):
    """(x, y) on the CPU: x (N, 1, 28, 28) float32 normalised as graft's, y int64."""
    if split not in _fashion_mnist:
        prefix = "train" if split == "train" else "t10k"
        x = torch.from_numpy(read_idx(prefix + "-images-idx3-ubyte.gz").copy()).float()
        x = ((x / 255 - MEAN) / STD).unsqueeze(1).contiguous()
        y = torch.from_numpy(read_idx(prefix + "-labels-idx1-ubyte.gz").copy()).long()
        _fashion_mnist[split] = (x, y)
    return _fashion_mnist[split]


def make_model(name):
    """examples/models.cpp's models, in torch.nn with the same default initialisation."""
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 10))


class Trainee:
    def __init__(self, model_name, device, autocast=None):
        torch.manual_seed(0)
        self.device = device
        self.autocast = autocast  # a low dtype: each forward and loss under autocast to it
        self.model = make_model(model_name).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)

    def step(self, x, y):
        self.optimizer.zero_grad()
        with torch.autocast(self.device.type, dtype=self.autocast,
                            enabled=self.autocast is not None):
            loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss

    @torch.no_grad()
    def test_accuracy(self):
        self.model.eval()
        x, y = fashion_mnist("test")
        correct = 0
        for i in range(0, len(x), EVAL_BATCH_SIZE):
            logits = self.model(x[i:i + EVAL_BATCH_SIZE].to(self.device))
            correct += (logits.argmax(1) == y[i:i + EVAL_BATCH_SIZE].to(self.device)).sum().item()
        self.model.train()
        return correct / len(x)


def training_workloads(device):
    registry = {}

    def epoch(model_name):
        x, y = fashion_mnist("train")
        fashion_mnist("test")
        state = {}

        def run():
            # graft's DataLoader gathers each shuffled batch from the whole split in memory;
            # this is the same, with torch's generator for the order.
            trainee = state["trainee"] = Trainee(model_name, device)
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
            loss_sum = 0.0
            for i in range(0, len(x), BATCH_SIZE):
                batch = order[i:i + BATCH_SIZE]
                loss_sum += trainee.step(x[batch].to(device), y[batch].to(device)).item()
        return Workload(run, single_run=True, accuracy=lambda: state["trainee"].test_accuracy())

    def step(model_name, autocast=None):
        x, y = fashion_mnist("train")
        xb, yb = x[:BATCH_SIZE].to(device), y[:BATCH_SIZE].to(device)
        trainee = Trainee(model_name, device, autocast)
        return Workload(lambda: trainee.step(xb, yb))

    def gpt_step(config_name, autocast=None):
        # nanoGPT's model and optimizer groups (nanogpt_torch.py), as versus_graft's gpt_step.
        import nanogpt_torch
        torch.manual_seed(0)
        config, vocabulary = nanogpt_torch.CONFIGS[config_name], 113
        batch = config["batch_size"]
        model = nanogpt_torch.GPT(config, vocabulary).to(device)
        optimizer = nanogpt_torch.make_optimizer(model, LEARNING_RATE)
        shape = (batch, config["block_size"])
        x = torch.randint(vocabulary, shape).to(device)
        y = torch.randint(vocabulary, shape).to(device)

        def run():
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=autocast, enabled=autocast is not None):
                loss = model(x, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            loss.item()
        return Workload(run)

    for model_name in ("mlp", "cnn"):
        registry[model_name + "_epoch"] = lambda m=model_name: epoch(m)
        registry[model_name + "_step"] = lambda m=model_name: step(m)
    registry["cnn_step_bf16"] = lambda: step("cnn", torch.bfloat16)
    registry["gpt_step"] = lambda: gpt_step("cpu")
    registry["gpt_step_bf16"] = lambda: gpt_step("cpu", torch.bfloat16)
    registry["gpt_gpu_step"] = lambda: gpt_step("gpu")
    registry["gpt_gpu_step_bf16"] = lambda: gpt_step("gpu", torch.bfloat16)
    return registry


def time_runs(workload, runs, device):
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(runs):
        workload.run()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(name, workload, target_seconds, device):
    reply = {"workload": name}
    if workload.single_run:
        reply.update(seconds=time_runs(workload, 1, device), runs=1)
    else:
        time_runs(workload, 1, device)
        estimate = max(time_runs(workload, 1, device), 1e-9)
        runs = min(max(int(target_seconds / estimate), 1), 1_000_000)
        reply.update(seconds=time_runs(workload, runs, device) / runs / workload.ops_per_run,
                     runs=runs)
    if workload.accuracy:
        reply["accuracy"] = workload.accuracy()
    return reply


def main():
    device = torch.device(sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--device" else "cpu")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    torch.set_num_interop_threads(1)
    factories = {**op_workloads(device), **training_workloads(device)}
    print(json.dumps({"ready": True, "framework": "torch " + torch.__version__,
                      "device": str(device), "threads": torch.get_num_threads(),
                      "cpu_capability": torch.backends.cpu.get_cpu_capability()}), flush=True)
    current_name, current = None, None
    for line in sys.stdin:
        fields = line.split()
        if not fields:
            continue
        name = fields[0]
        target_seconds = float(fields[1]) if len(fields) > 1 else 0.2
        try:
            if name not in factories:
                raise ValueError(f"torch_worker: unknown workload '{name}'")
            if name != current_name:
                current_name, current = None, None
                current, current_name = factories[name](), name
            reply = measure(name, current, target_seconds, device)
        except Exception as e:  # noqa: BLE001 - reported to the driver, which goes on
            current_name, current = None, None
            reply = {"workload": name, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
