"""Per-call cost from Python: a 1-element add (graft, and PyTorch and NumPy when importable,
measured in the same run), and the zero-copy conversions at two sizes (their cost must not
depend on the size).

    PYTHONPATH=build/python python3 benchmarks/python/overhead.py

Each figure is the median of 7 repeats of a timeit loop, in microseconds per call.
"""
import statistics
import timeit

import numpy as np

import graft

try:
    import torch
except ImportError:
    torch = None


def per_call_us(statement, number=20000, **names):
    times = timeit.repeat(statement, globals=names, number=number, repeat=7)
    return statistics.median(times) / number * 1e6


def main():
    rows = []
    a, b = graft.ones(1), graft.ones(1)
    rows.append(("graft: a + b, 1 element", per_call_us("a + b", a=a, b=b)))
    rows.append(("graft: a.add(b), 1 element", per_call_us("a.add(b)", a=a, b=b)))
    if torch is not None:
        ta, tb = torch.ones(1), torch.ones(1)
        rows.append((f"torch {torch.__version__}: a + b, 1 element",
                     per_call_us("a + b", a=ta, b=tb)))
    na, nb = np.ones(1, np.float32), np.ones(1, np.float32)
    rows.append((f"numpy {np.__version__}: a + b, 1 element", per_call_us("a + b", a=na, b=nb)))
    for n in (1, 1 << 20):
        x = np.ones(n, np.float32)
        t = graft.from_numpy(x)
        rows.append((f"graft.from_numpy, {n} elements",
                     per_call_us("from_numpy(x)", from_numpy=graft.from_numpy, x=x)))
        rows.append((f"Tensor.numpy(), {n} elements", per_call_us("t.numpy()", t=t)))
        rows.append((f"graft.from_dlpack(ndarray), {n} elements",
                     per_call_us("from_dlpack(x)", from_dlpack=graft.from_dlpack, x=x)))
        rows.append((f"np.from_dlpack(tensor), {n} elements",
                     per_call_us("np.from_dlpack(t)", np=np, t=t)))
    width = max(len(name) for name, _ in rows)
    print(f"{'call':<{width}}  us/call")
    for name, us in rows:
        print(f"{name:<{width}}  {us:7.3f}")


if __name__ == "__main__":
    main()
