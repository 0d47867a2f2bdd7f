"""Writes the .npz golden files that tests/io/npz_test.cpp reads. The files are committed;
the tests never run Python.

Apart from make_golden.py because it needs NumPy only, and was run with Debian 12's own
Python (3.11.2, NumPy 1.24.2), whose zipfile writes the ZIP64 local headers that graft
must read:

    /usr/bin/python3 tests/io/golden/make_golden_npz.py

The same arrays go into both files; npz_test.cpp spells the same values out. Rerunning the
script gives byte-identical files (NumPy dates every member 1980-01-01).
"""

import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def arrays():
    # Keyword arrays in this order, then one positional array, which NumPy names arr_0 and
    # stores last.
    positional = np.array([1.5, -2.0, 3.25], dtype=np.float32)
    named = {
        "f64": np.array([[1.0 / 3.0, -1e300, 2.5], [0.0, -0.0, 7.0]], dtype=np.float64),
        "i64": np.array([-(2**62), 5, 2**40], dtype=np.int64),
        "i32": np.array([-2147483648, 0, 2147483647], dtype=np.int32),
        "u8": np.array([0, 7, 255], dtype=np.uint8),
        "mask": np.array([[True, False], [False, True]]),
        "scalar": np.array(-0.25, dtype=np.float64),
        "empty": np.zeros((0, 4), dtype=np.int64),
        # Column-major storage: the bytes run 0, 3, 1, 4, 2, 5.
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "encoder/w": np.array([[1, 2]], dtype=np.int32),
    }
    return positional, named


def main():
    positional, named = arrays()
    np.savez(HERE / "savez.npz", positional, **named)
    np.savez_compressed(HERE / "savez_compressed.npz", positional, **named)


if __name__ == "__main__":
    main()
