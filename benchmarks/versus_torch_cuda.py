#!/usr/bin/env python3
"""PyTorch's figures for the ops that benchmarks/cuda_bench.cpp measures in graft.

Same ops, same sizes, same counting of bytes and FLOPs, same timing: CUDA events around
each run on the current stream, warm-up runs first, then N runs sized to take about
TARGET_MS (between MIN_RUNS and MAX_RUNS), and the median. TF32 is off for the float32
product (torch's default for matmul, set here explicitly), so it is comparable with graft's
FP32 SGEMM. Inputs are uniform in [-scale, scale) from torch's generator; the values do not
matter to these ops' speed as long as they are not zeros.

Prints one JSON object per line, in cuda_bench's format, as each figure completes; a line
with "status": "failed" when torch or its GPU is missing, so the report can say why.
Usage: python3 versus_torch_cuda.py [SUBSTRING...]   (figures whose name holds any; all)
"""
import json
import sys

NUMEL = 1 << 26  # 64M float32 = 256 MB, far above an H100's 50 MB L2
SIDE = 8192  # (8192, 8192) float32 = 256 MB
MATMUL_SIDE = 4096
ATTN_BATCH, ATTN_HEADS, ATTN_TOKENS, ATTN_DIM = 4, 16, 2048, 64  # cuda_bench's attention
FLOAT_BYTES = 4

WARMUP_RUNS = 3
TARGET_MS = 300.0
MIN_RUNS = 10
MAX_RUNS = 200


def emit(record):
    print(json.dumps(record), flush=True)


def time_on_gpu(torch, run):
    """(median, min, max) milliseconds of one run, and the number of timed runs."""
    for _ in range(WARMUP_RUNS):
        run()
    torch.cuda.synchronize()

    def timed(runs):
        pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                 for _ in range(runs)]
        for start, stop in pairs:
            start.record()
            run()
            stop.record()
        torch.cuda.synchronize()
        return sorted(start.elapsed_time(stop) for start, stop in pairs)

    estimate = timed(1)[0]
    runs = min(max(int(TARGET_MS / max(estimate, 1e-3)), MIN_RUNS), MAX_RUNS)
    ms = timed(runs)
    return ms[len(ms) // 2], ms[0], ms[-1], runs


def cases(torch):
    """(name, group, unit, work, run) for every figure, inputs made once."""
    dev = "cuda"

    def uniform(*shape, scale=1.0):
        return (torch.rand(*shape, device=dev) * 2 - 1) * scale

    a, b = uniform(NUMEL), uniform(NUMEL)
    m, row = uniform(SIDE, SIDE), uniform(SIDE)
    wide, tall = uniform(SIDE, SIDE, scale=30.0), uniform(65536, 1024, scale=30.0)
    ma, mb = uniform(MATMUL_SIDE, MATMUL_SIDE), uniform(MATMUL_SIDE, MATMUL_SIDE)
    ma16, mb16 = {}, {}
    for name, dtype in (("bfloat16", torch.bfloat16), ("float16", torch.float16)):
        ma16[name], mb16[name] = ma.to(dtype), mb.to(dtype)
    a16 = {"float16": (a.half(), b.half()), "bfloat16": (a.bfloat16(), b.bfloat16())}
    # Causal attention in 16 bits, as cuda_bench's attention cases (their FLOPs, their sizes).
    heads = (ATTN_BATCH, ATTN_HEADS, ATTN_TOKENS, ATTN_DIM)
    attention = {}
    for name, dtype in (("bfloat16", torch.bfloat16), ("float16", torch.float16)):
        attention[name] = [uniform(*heads).to(dtype) for _ in range(4)]  # q, k, v, grad_out
    sdpa = torch.nn.functional.scaled_dot_product_attention
    attention_forward = 4.0 * ATTN_BATCH * ATTN_HEADS * ATTN_TOKENS ** 2 * ATTN_DIM / 2

    def forward_and_backward(q, k, v, grad_out):
        leaves = [t.detach().requires_grad_() for t in (q, k, v)]
        torch.autograd.grad(sdpa(*leaves, is_causal=True), leaves, grad_out)

    dst = torch.empty_like(a)
    tensor = NUMEL * FLOAT_BYTES
    matrix, line = SIDE * SIDE * FLOAT_BYTES, SIDE * FLOAT_BYTES
    return [
        ("copy_", "ceiling", "GB/s", 2 * tensor, lambda: dst.copy_(a)),
        ("add", "elementwise", "GB/s", 3 * tensor, lambda: a + b),
        ("mul_scalar", "elementwise", "GB/s", 2 * tensor, lambda: a * 2.0),
        ("broadcast_add", "elementwise", "GB/s", 2 * tensor + line, lambda: m + row),
        ("exp", "elementwise", "GB/s", 2 * tensor, lambda: a.exp()),
    ] + [(f"add_{name}", "elementwise", "GB/s", 3 * NUMEL * 2, lambda x=x, y=y: x + y)
         for name, (x, y) in a16.items()] + [
        ("sum_all", "reduction", "GB/s", matrix + FLOAT_BYTES, lambda: m.sum()),
        ("sum_dim0", "reduction", "GB/s", matrix + line, lambda: m.sum(0)),
        ("sum_dim1", "reduction", "GB/s", matrix + line, lambda: m.sum(1)),
        ("softmax_8192x8192", "softmax", "GB/s", 2 * matrix,
         lambda: torch.softmax(wide, -1)),
        ("softmax_65536x1024", "softmax", "GB/s", 2 * tall.numel() * FLOAT_BYTES,
         lambda: torch.softmax(tall, -1)),
        ("matmul_torch", "matmul", "TFLOP/s", 2.0 * MATMUL_SIDE ** 3, lambda: ma @ mb),
    ] + [(f"matmul_{name}_torch", f"matmul_{name}", "TFLOP/s", 2.0 * MATMUL_SIDE ** 3,
          lambda name=name: ma16[name] @ mb16[name]) for name in ma16] + [
        case for name, (q, k, v, g) in attention.items() for case in (
            (f"attention_{name}_fwd", "attention", "TFLOP/s", attention_forward,
             lambda q=q, k=k, v=v: sdpa(q, k, v, is_causal=True)),
            (f"attention_{name}_fwd_bwd", "attention", "TFLOP/s", 3.5 * attention_forward,
             lambda q=q, k=k, v=v, g=g: forward_and_backward(q, k, v, g)))]


def main(filters):
    base = {"group": "device"}
    try:
        import torch
        if not torch.cuda.is_available():
            raise RuntimeError(f"torch {torch.__version__} sees no CUDA device")
    except Exception as e:  # ImportError, or a torch without a usable GPU
        emit({"name": "device", **base, "status": "failed", "message": str(e)})
        return 0
    torch.set_float32_matmul_precision("highest")  # float32 products in FP32, not TF32
    props = torch.cuda.get_device_properties(0)
    emit({"name": "device", **base, "gpu": props.name, "torch": torch.__version__,
          "cuda": torch.version.cuda, "multiprocessors": props.multi_processor_count,
          "memory_bytes": props.total_memory})
    for name, group, unit, work, run in cases(torch):
        if filters and not any(f in name for f in filters):
            continue
        record = {"name": name, "group": group, "unit": unit, "work": work}
        try:
            median, low, high, runs = time_on_gpu(torch, run)
            scale = 1e12 if unit == "TFLOP/s" else 1e9
            record.update(median_ms=median, min_ms=low, max_ms=high, runs=runs,
                          rate=work / (median * 1e-3) / scale, status="ok", message="")
        except Exception as e:  # a figure that fails leaves the others standing
            record.update(status="failed", message=str(e))
        emit(record)
        print(f"{name:28s} {record.get('median_ms', 0):10.4f} ms "
              f"{record.get('rate', 0):10.2f} {unit:8s} {record['status']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
