#!/usr/bin/env python3
"""graft-gpt versus nanoGPT in PyTorch: the same corpus, config and recipe, side by side.

    python3 gpt_versus.py --graft-gpt build/examples/graft-gpt --python venv/bin/python \\
                          [--config cpu] [--iters 2000] [--eval-iters 200] [--rounds 1]
                          [--out FILE]

Trains the character-level GPT with graft-gpt and with nanogpt_torch.py (nanoGPT's model
and loop in PyTorch) one after the other, round after round (graft first in odd rounds,
PyTorch first in even ones), on the fortunes corpus, and writes one markdown report: the
time per training iteration of each (evaluations left out; the median over the rounds, and
the ratio graft / PyTorch), the losses at every evaluation, the validation loss after the
last iteration of each (--eval-iters batches per split: 200 by default, ten times the cpu
config's 20, so that the two final figures are not lost in the estimate's noise), and three
samples from graft's trained model (seeds 1, 2, 3; 300 characters, temperature 0.8, top-k
40). Both get the same thread count (OMP_NUM_THREADS, default: all cores), and
OMP_WAIT_POLICY is left unset. Goals (issue 14): iteration time <= 0.8 of PyTorch's, final
validation loss within 0.03 of PyTorch's. Standard library only.
"""
import argparse
import csv
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile

from versus import cpu_model, git_commit  # the same machine and commit lines as versus.py

HERE = os.path.dirname(os.path.abspath(__file__))


def read_metrics(path):
    with open(path) as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def mean_ms_per_iter(rows):
    """The mean training iteration over the whole run, from the per-row means."""
    total = sum(r["ms_per_iter"] * (r["iter"] - p["iter"]) for p, r in zip(rows, rows[1:]))
    return total / rows[-1]["iter"]


def run(command, env):
    print("+", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--graft-gpt", required=True)
    ap.add_argument("--python", required=True, help="a Python with torch and numpy")
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--eval-iters", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(os.cpu_count()))
    # The runs take turns, never side by side, so each keeps its own thread defaults: told to
    # wait passively, PyTorch's OpenMP team took 86 ms an iteration instead of 52 (graft's
    # threads are its own and do not read OMP_WAIT_POLICY).
    env.pop("OMP_WAIT_POLICY", None)
    work = tempfile.mkdtemp(prefix="gpt_versus_")
    common = ["--config", args.config, "--iters", str(args.iters), "--eval-iters",
              str(args.eval_iters)]
    results = {"graft": [], "pytorch": []}
    for r in range(args.rounds):
        order = ["graft", "pytorch"] if r % 2 == 0 else ["pytorch", "graft"]
        for who in order:
            out = os.path.join(work, f"{who}{r}")
            if who == "graft":
                run([args.graft_gpt, *common, "--device", "cpu", "--out", out], env)
            else:
                run([args.python, os.path.join(HERE, "nanogpt_torch.py"), *common, "--out", out],
                    env)
            results[who].append(read_metrics(os.path.join(out, "metrics.csv")))

    ms = {who: [mean_ms_per_iter(rows) for rows in runs] for who, runs in results.items()}
    ratios = [g / p for g, p in zip(ms["graft"], ms["pytorch"])]
    val = {who: [rows[-1]["val_loss"] for rows in runs] for who, runs in results.items()}
    samples = []
    checkpoint = os.path.join(work, "graft0", "checkpoint.safetensors")
    for seed in (1, 2, 3):
        text = subprocess.run([args.graft_gpt, "sample", "--checkpoint", checkpoint, "--device",
                               "cpu", "--tokens", "300", "--temperature", "0.8", "--top-k", "40",
                               "--seed", str(seed)], env=env, check=True, capture_output=True,
                              text=True).stdout
        samples.append(text)

    lines = [f"# graft-gpt versus nanoGPT (PyTorch), config {args.config}, "
             f"{datetime.date.today()}", "",
             f"Machine: {cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, "
             f"OMP_NUM_THREADS={env['OMP_NUM_THREADS']}; {args.iters} iterations, "
             f"{args.eval_iters} batches per split in each evaluation, {args.rounds} "
             f"round(s); the fortunes corpus. Made by "
             f"`benchmarks/versus/gpt_versus.py` at graft commit {git_commit()}.", "",
             "| | graft | PyTorch | graft / PyTorch | goal |", "|---|---|---|---|---|",
             f"| ms per iteration (median) | {statistics.median(ms['graft']):.2f} | "
             f"{statistics.median(ms['pytorch']):.2f} | {statistics.median(ratios):.2f} "
             f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}) | <= 0.8 |",
             f"| validation loss after {args.iters} iterations | "
             f"{', '.join(f'{v:.4f}' for v in val['graft'])} | "
             f"{', '.join(f'{v:.4f}' for v in val['pytorch'])} | difference "
             f"{statistics.median(val['graft']) - statistics.median(val['pytorch']):+.4f} | "
             "within 0.03 |", "",
             "Losses at each evaluation (round 1):", "",
             "| iter | graft train | graft val | PyTorch train | PyTorch val |",
             "|---|---|---|---|---|"]
    for g, p in zip(results["graft"][0], results["pytorch"][0]):
        lines.append(f"| {int(g['iter'])} | {g['train_loss']:.4f} | {g['val_loss']:.4f} | "
                     f"{p['train_loss']:.4f} | {p['val_loss']:.4f} |")
    lines += ["", "Samples from graft's model (`graft-gpt sample --tokens 300 --temperature 0.8 "
              "--top-k 40 --seed S`):", ""]
    for seed, text in zip((1, 2, 3), samples):
        lines += [f"Seed {seed}:", "", "```", text.rstrip("\n"), "```", ""]
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
