#!/usr/bin/env python3
"""Turns the JSON of graft's CPU benchmarks into the Markdown table of benchmarks/results/.

run_benchmarks.sh runs each binary with --benchmark_repetitions and aggregates only; this
script takes each benchmark's median, and the coefficient of variation across the
repetitions as its spread, and checks the issue's goals. Plain Python 3 standard library.

Usage: benchmark_report.py OUT.md JSON... with the machine's details in the environment
(GRAFT_BENCH_COMMIT, GRAFT_BENCH_LOAD_BEFORE, GRAFT_BENCH_LOAD_AFTER, GRAFT_BENCH_REPETITIONS).
"""
import datetime
import json
import os
import platform
import sys

# family -> (what the figure is, its baseline, goal text, goal test on (ratio or ns)).
FAMILIES = {
    "elementwise": ("GB/s", "copy_GB/s", ">= 0.8", lambda r: r >= 0.8),
    "reduce": ("GB/s", "copy_GB/s", ">= 0.8", lambda r: r >= 0.8),
    "matmul": ("GFLOP/s", "eigen_GFLOP/s", ">= 0.95", lambda r: r >= 0.95),
    "half": ("GB/s", "float32_GB/s", ">= 1", lambda r: r >= 1.0),
    "overhead": ("time_per_op", None, "<= 500 ns", lambda ns: ns <= 500),
}
# Benchmarks measured against another baseline than their family's: (baseline, goal text,
# goal test on the ratio, whether a row (by its full name) has the goal).
OVERRIDES = {
    "BM_matmul_bfloat16": ("float32_GFLOP/s", ">= 1.5 from n = 1024", lambda r: r >= 1.5,
                           lambda name: int(name.split("/")[1]) >= 1024),
}
# Benchmarks whose goal the issue does not set: their rows carry the figure only. exp is
# compute-bound, add_ has no allocation to pay (it shows what the loop alone reaches), and
# the overhead rows other than the 1-element add break its cost down.
NO_GOAL = {"BM_exp", "BM_add_inplace", "BM_add_inplace_1elem", "BM_chain_10_ops_1elem",
           "BM_empty_1elem"}


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def medians(path):
    """{benchmark name: {"median": entry, "cv": entry}} of one binary's JSON, and its
    context; None when the binary ran nothing (a filter that matched none of its benchmarks
    leaves an empty file)."""
    with open(path) as f:
        text = f.read()
    if not text.strip():
        return None
    data = json.loads(text)
    rows = {}
    for entry in data["benchmarks"]:
        name = entry["run_name"].replace("/manual_time", "")
        kind = entry.get("aggregate_name")
        if kind in ("median", "cv"):
            rows.setdefault(name, {})[kind] = entry
    return rows, data["context"]


def fmt(x, digits=3):
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"


def family_table(family, rows):
    unit, baseline, goal, meets = FAMILIES[family]
    lines = []
    if baseline:
        lines.append(f"| benchmark | graft {unit} | {baseline} | ratio | ratio spread (cv) "
                     f"| goal | met |")
        lines.append("|---|---:|---:|---:|---:|---|---|")
    else:
        lines.append("| benchmark | ns per op | spread (cv) | goal | met |")
        lines.append("|---|---:|---:|---|---|")
    for name, agg in rows.items():
        med, cv = agg["median"], agg.get("cv", {})
        base_name = name.split("/")[0]
        has_goal = base_name not in NO_GOAL
        if baseline:
            row_baseline, row_goal, row_meets = baseline, goal, meets
            if base_name in OVERRIDES:
                row_baseline, row_goal, row_meets, applies = OVERRIDES[base_name]
                has_goal = applies(name)
            ratio = med["ratio"]
            met = ("yes" if row_meets(ratio) else "**no**") if has_goal else "—"
            base_figure = fmt(med[row_baseline])
            if row_baseline != baseline:
                base_figure += f" ({row_baseline})"
            lines.append(f"| {name} | {fmt(med[unit])} | {base_figure} | {ratio:.2f} "
                         f"| {100 * cv.get('ratio', 0):.1f}% | {row_goal if has_goal else '—'} "
                         f"| {met} |")
        else:
            ns = med[unit] * 1e9
            met = ("yes" if meets(ns) else "**no**") if has_goal else "—"
            lines.append(f"| {name} | {fmt(ns)} | {100 * cv.get(unit, 0):.1f}% "
                         f"| {goal if has_goal else '—'} | {met} |")
    return "\n".join(lines)


def main():
    out_path, json_paths = sys.argv[1], sys.argv[2:]
    env = os.environ.get
    sections, context = [], None
    for path in json_paths:
        family = os.path.basename(path).removesuffix(".json")
        parsed = medians(path)
        if parsed is None:
            continue
        rows, context = parsed
        sections.append(f"## {family}\n\n{family_table(family, rows)}\n")
    if context is None:
        sys.exit("benchmark_report.py: no benchmark ran (check GRAFT_BENCH_FILTER)")
    caches = ", ".join(
        f"L{c['level']} {c['type']} {c['size'] // 1024} KiB"
        f" (x{context['num_cpus'] // max(1, c['num_sharing'])})"
        for c in context.get("caches", []))
    threads = env("OMP_NUM_THREADS") or f"automatic, up to {os.cpu_count()} (OMP_NUM_THREADS unset)"
    header = f"""# graft CPU benchmarks, {datetime.date.today().isoformat()}

Written by `scripts/run_benchmarks.sh`; `benchmarks/README.md` says what each figure means.
Every figure is the median of {env("GRAFT_BENCH_REPETITIONS", "?")} repetitions and "spread" is
their coefficient of variation. Each ratio is taken inside one benchmark: graft's op and its
baseline run alternately in the same iterations. Overhead times are CPU time per op.

| | |
|---|---|
| CPU | {cpu_model()} |
| cores | {os.cpu_count()}; graft's threads: {threads} |
| caches | {caches} |
| date | {datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")} |
| commit | {env("GRAFT_BENCH_COMMIT", "unknown")} |
| load average (1, 5, 15 min) | before: {env("GRAFT_BENCH_LOAD_BEFORE", "?")}; after: {env("GRAFT_BENCH_LOAD_AFTER", "?")} |
| build | Release, {platform.system()} {platform.release()} |
"""
    with open(out_path, "w") as f:
        f.write(header + "\n" + "\n".join(sections))


if __name__ == "__main__":
    main()
