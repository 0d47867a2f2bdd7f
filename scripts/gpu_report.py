#!/usr/bin/env python3
"""Writes gpu-results.md, the table of one GPU check (scripts/gpu_check.sh).

Reads the steps' outcomes, the test and sanitizer logs, and the one-JSON-object-a-line
output of benchmarks/cuda_bench.cpp (graft) and benchmarks/versus_torch_cuda.py (PyTorch).
Ceilings come from graft's run: the copy bandwidth is the faster of graft's copy_ and
cudaMemcpy D2D, the matrix rate is cuBLAS's GEMM in the product's dtype (the `cublas` matmul
variant: SGEMM for float32, cublasGemmEx for float16 and bfloat16). Every figure is shown as
its rate and as a percentage of its ceiling, PyTorch's beside it, and the issues' goals are
checked (H100): elementwise and reductions >= 90% of the copy bandwidth, softmax >= 1.1x
torch.softmax, the best hand-written FP32 SGEMM >= 90% of cuBLAS at 4096^3, the tensor-core
bfloat16 GEMM >= 50% of cuBLAS's at 4096^3.
Plain Python 3 standard library, so it runs on any machine.
"""
import argparse
import datetime
import json
import os
import re

BANDWIDTH_GOAL = 0.90  # elementwise and reductions, of the copy bandwidth
SOFTMAX_GOAL = 1.10  # speed-up over torch.softmax
MATMUL_GOAL = 0.90  # best hand-written float32 variant, of cuBLAS
TENSOR_CORE_GOAL = 0.50  # the tensor_core variant in bfloat16, of cuBLAS in bfloat16


def hand_written(name):
    return not name.endswith(("_cublas", "_default"))


def read_jsonl(path):
    """{name: record} of a benchmark's output; lines that are not JSON (a run cut off
    mid-line) are skipped."""
    records = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                records[record.get("name", "?")] = record
    return records


def read_text(path):
    if not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read()


def rate(record):
    """The record's rate, or None when it has no timing."""
    if record and record.get("runs", 0) > 0 and record.get("status") in ("ok", "wrong"):
        return record["rate"]
    return None


def fmt(x, digits=3):
    if x is None:
        return "—"
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"


def pct(x):
    return "—" if x is None else f"{100 * x:.0f}%"


def test_summary(log):
    """'N passed, N failed, N skipped' from a gtest log of one or more runs, with the failed
    and skipped names."""
    counts = {}
    for kind in ("PASSED", "FAILED", "SKIPPED"):  # summed over the log's runs (GRAFT_GPU_ISOLATE)
        counts[kind] = sum(int(n) for n in re.findall(rf"\[\s+{kind}\s+\]\s+(\d+) tests?", log))
    text = (f"{counts['PASSED']} passed, {counts['FAILED']} failed, "
            f"{counts['SKIPPED']} skipped")
    test_name = r"([\w/]+\.[\w/]+)"  # Suite.Name, Prefix/Suite.Name/0: not "2 tests"
    failed = sorted(set(re.findall(rf"^\[\s+FAILED\s+\] {test_name}", log, re.M)))
    skipped = sorted(set(re.findall(rf"^\[\s+SKIPPED\s+\] {test_name}", log, re.M)))
    return text, failed, skipped


def sanitizer_summary(log):
    """The tests that finished under the tool (its log prints each), and what it found."""
    finished = len(re.findall(r"^\[\s+OK\s+\]", log, re.M))
    m = re.search(r"ERROR SUMMARY: (\d+) errors?", log)
    races = re.search(r"RACECHECK SUMMARY: (\d+) hazards? displayed \((\d+) errors?", log)
    if races:
        found = f"{races.group(1)} hazards ({races.group(2)} errors)"
    elif m:
        found = f"{m.group(1)} errors"
    else:
        found = "no summary (stopped before the end)"
    return f"{finished} tests passed under it; {found}"


def step_table(args):
    logs = {"tests": read_text(args.tests), "memcheck": read_text(args.memcheck),
            "racecheck": read_text(args.racecheck)}
    lines = ["| step | outcome | seconds | log |", "|---|---|---:|---|"]
    notes = []
    with open(args.steps) as f:
        for row in f:
            name, outcome, seconds, log = row.rstrip("\n").split("\t")
            if name == "tests" and logs["tests"]:
                summary, failed, skipped = test_summary(logs["tests"])
                outcome += f": {summary}"
                if failed:
                    notes.append("Failed tests: " + ", ".join(failed) + ".")
                if skipped:
                    notes.append("Skipped tests: " + ", ".join(skipped) + "."
                                 + ("" if args.dry_run == "1" else
                                    " **On a GPU machine a CUDA test should not skip.**"))
            elif name in ("memcheck", "racecheck") and logs[name]:
                summary = sanitizer_summary(logs[name])
                if summary:
                    outcome += f": {summary}"
            lines.append(f"| {name} | {outcome} | {seconds} | {log} |")
    return lines, notes


def figure_table(graft, torch):
    """The figures' table, and the ceilings and goal rows it implies."""
    copies = [r for r in (rate(graft.get("copy_")), rate(graft.get("cudaMemcpy_d2d"))) if r]
    bandwidth = max(copies) if copies else None
    flops = rate(graft.get("matmul_cublas"))
    # Each matmul group (matmul, matmul_bfloat16, ...) against cuBLAS in its own dtype.
    group_flops = {g.get("group"): rate(g) for name, g in graft.items()
                   if name.endswith("_cublas")}
    torch_bandwidth = rate(torch.get("copy_"))
    lines = ["| figure | graft ms (median) | graft rate | % of ceiling | PyTorch rate "
             "| PyTorch % of ceiling | graft speed-up over PyTorch | worst rel. error "
             "| status |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    goals = []
    best_hand_written = None
    best_shape = {}  # per 16-bit group: the fastest correct tensor-core block shape
    for name, g in graft.items():
        if g.get("group") == "device":
            continue
        group = g.get("group", "")
        t = torch.get(group + "_torch" if group.startswith("matmul") else name)
        ceiling = group_flops.get(group) if g.get("unit") == "TFLOP/s" else bandwidth
        g_rate, t_rate = rate(g), rate(t)
        g_frac = g_rate / ceiling if g_rate and ceiling else None
        t_frac = t_rate / ceiling if t_rate and ceiling else None
        speedup = g_rate / t_rate if g_rate and t_rate else None
        status = g.get("status", "?")
        if g.get("message"):
            status += ": " + g["message"].replace("|", "/")  # a "|" would split the cell
        unit = g.get("unit", "") if g_rate else ""
        median = g.get("median_ms") if g_rate else None
        lines.append(f"| {name} | {fmt(median)} | {fmt(g_rate)} {unit} "
                     f"| {pct(g_frac)} | {fmt(t_rate)} | {pct(t_frac)} | {fmt(speedup)} "
                     f"| {fmt(g.get('error'), 2)} | {status} |")
        if group in ("elementwise", "reduction"):
            goals.append((f"{name} >= {pct(BANDWIDTH_GOAL)} of copy bandwidth", pct(g_frac),
                          g_frac is not None and g_frac >= BANDWIDTH_GOAL))
        elif group == "softmax":
            goals.append((f"{name} >= {SOFTMAX_GOAL}x torch.softmax",
                          "—" if speedup is None else f"{speedup:.2f}x",
                          speedup is not None and speedup >= SOFTMAX_GOAL))
        elif name == "matmul_bfloat16_tensor_core":
            ok = g.get("status") == "ok" and g_frac is not None
            goals.append((f"{name} >= {pct(TENSOR_CORE_GOAL)} of cuBLAS bfloat16", pct(g_frac),
                          ok and g_frac >= TENSOR_CORE_GOAL))
        elif group == "matmul" and hand_written(name) and g_frac is not None \
                and g.get("status") == "ok":
            if best_hand_written is None or g_frac > best_hand_written[1]:
                best_hand_written = (name, g_frac)
        shape_prefix = group + "_tensor_core_"
        if name.startswith(shape_prefix) and g_frac is not None and g.get("status") == "ok":
            if group not in best_shape or g_frac > best_shape[group][1]:
                best_shape[group] = (name[len(shape_prefix):], g_frac)
    # The block shapes cuda_bench times beside the library's (tensor_core_shapes.cu): the
    # fastest is the one TensorCoreTiles should take.
    for group, (shape, frac) in sorted(best_shape.items()):
        goals.append((f"fastest tensor-core block shape, {group[len('matmul_'):]} ({shape}) "
                      f">= {pct(TENSOR_CORE_GOAL)} of cuBLAS", pct(frac),
                      frac >= TENSOR_CORE_GOAL))
    if "matmul_cublas" in graft:
        label = best_hand_written[0] if best_hand_written else "none measured correct"
        frac = best_hand_written[1] if best_hand_written else None
        goals.append((f"best hand-written SGEMM ({label}) >= {pct(MATMUL_GOAL)} of cuBLAS",
                      pct(frac), frac is not None and frac >= MATMUL_GOAL))
    ceilings = (f"copy bandwidth {fmt(bandwidth)} GB/s (the faster of graft's copy_ and "
                f"cudaMemcpy D2D, bytes read + written; PyTorch's copy_: "
                f"{fmt(torch_bandwidth)} GB/s); cuBLAS SGEMM {fmt(flops)} TFLOP/s "
                f"(4096^3 float32, graft's `cublas` variant)")
    for group, group_rate in sorted(group_flops.items()):
        if group != "matmul":
            ceilings += f"; {group} cuBLAS (cublasGemmEx) {fmt(group_rate)} TFLOP/s"
    return lines, goals, ceilings


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("out", "steps", "graft", "torch", "tests", "memcheck", "racecheck", "gpu",
                 "commit", "build", "dry-run"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--versus", default="", help="benchmarks/versus's markdown report, if any")
    args = p.parse_args()

    graft, torch = read_jsonl(args.graft), read_jsonl(args.torch)
    g_dev, t_dev = graft.get("device", {}), torch.get("device", {})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# GPU check, {now}", ""]
    if args.dry_run == "1":
        out += ["**Dry run on a machine without a GPU: no figure below is a GPU's.**", ""]
    torch_text = t_dev.get("torch") or t_dev.get("message") or "no output"
    device_text = (f"{g_dev['gpu']}, sm_{g_dev['sm'].replace('.', '')}, "
                   f"{g_dev['multiprocessors']} SMs, L2 {g_dev['l2_bytes'] / 2**20:.0f} MiB"
                   if "gpu" in g_dev else "cuda_bench printed no device line")
    out += ["| | |", "|---|---|",
            f"| date | {now} |",
            f"| GPU (nvidia-smi: name, driver, memory) | {args.gpu} |",
            f"| GPU (cuda_bench) | {device_text} |",
            f"| commit | {args.commit} |",
            f"| binaries | {args.build} |",
            f"| PyTorch | {torch_text} |", ""]

    steps, notes = step_table(args)
    out += ["## Steps", ""] + steps + [""] + notes + ([""] if notes else [])

    figures, goals, ceilings = figure_table(graft, torch)
    out += ["## Figures", "",
            "Medians of N runs timed with CUDA events after warm-up; inputs 256 MB "
            "(above L2). Bytes count each input read once and the output written once; "
            "a product is 2 n^3 FLOPs. The ceilings, measured in the same run: "
            + ceilings + ". PyTorch's matmul (TF32 off) appears beside every variant.", ""]
    out += figures + ["", "## Goals (H100)", "", "| goal | measured | met |", "|---|---:|---|"]
    out += [f"| {goal} | {measured} | {'yes' if met else '**no**'} |"
            for goal, measured, met in goals]
    versus = read_text(args.versus) if args.versus else ""
    if versus:
        # Its own title becomes a section of this report.
        lines = versus.strip().splitlines()
        out += ["", "## Whole steps against PyTorch (benchmarks/versus, --device cuda)", ""]
        out += [line for line in lines if not line.startswith("# ")]
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
