"""Writes the golden files that graft's checkpoint tests read (tests/io/safetensors_test.cpp,
tests/io/npy_test.cpp). The files are committed; the tests never run Python.

They were made once with Python's own libraries, so that graft is checked against the
reference implementations rather than against itself:

    python3 -m venv /work/venv-st
    /work/venv-st/bin/pip install safetensors numpy ml_dtypes
    # safetensors 0.8.0, numpy 2.4.6, ml_dtypes 0.7.0 (NumPy's bfloat16)
    /work/venv-st/bin/python tests/io/golden/make_golden.py

Every value is small and exactly representable, and the tests spell the same values out,
so a reader can check a test against this script by eye. Rerunning the script must give
byte-identical files (nothing here is random).
"""

import pathlib

import ml_dtypes
import numpy as np
from numpy.lib import format as npy_format
from safetensors.numpy import save_file

HERE = pathlib.Path(__file__).resolve().parent


def save_npy(name, array, version):
    with open(HERE / name, "wb") as f:
        npy_format.write_array(f, array, version=version)


def main():
    # One file holding every dtype graft supports, a 0-d tensor and an empty one.
    save_file(
        {
            "f32": np.array([[1.5, -2.0, 3.25], [0.0, -0.5, 1e-3]], dtype=np.float32),
            "f64": np.array([1.0 / 3.0, -1e300, 2.5], dtype=np.float64),
            "i32": np.array([[-7], [2147483647], [0]], dtype=np.int32),
            "i64": np.array([-(2**62), 5, 2**40], dtype=np.int64),
            "u8": np.array([0, 1, 254, 255], dtype=np.uint8),
            "bool": np.array([True, False, True], dtype=np.bool_),
            "scalar": np.array(42.0, dtype=np.float32),
            "empty": np.zeros((0, 3), dtype=np.float32),
            "layer.0.weight": np.arange(6, dtype=np.float64).reshape(2, 3),
        },
        HERE / "all_dtypes.safetensors",
        # One key only: the Rust writer keeps metadata in a hash map, so two keys would come
        # out in a different order on each run.
        metadata={"note": "quote \" newline \n caf\u00e9"},
    )
    # A file whose only tensor is empty: the data section has no bytes at all.
    save_file({"nothing": np.zeros((2, 0), dtype=np.int64)}, HERE / "only_empty.safetensors")

    # The 16-bit types with their edge values: the largest finite, the smallest subnormal,
    # a negative zero and an infinity.
    save_file(
        {
            "f16": np.array([1.5, -2.0, 65504.0, 2.0**-24, -0.0, np.inf], dtype=np.float16),
            "bf16": np.array([[1.5, -2.0, 2.0**-133], [-0.0, -np.inf, 3.0e38]], dtype=ml_dtypes.bfloat16),
        },
        HERE / "half.safetensors",
    )
    save_npy("f16.npy", np.array([[0.1, -65504.0], [2.0**-14, np.nan]], dtype=np.float16), (1, 0))

    values = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    save_npy("f32_v1.npy", values, (1, 0))
    save_npy("f32_v2.npy", values, (2, 0))
    save_npy("f32_v3.npy", values, (3, 0))
    # Column-major storage: the bytes run 1, 4, 2, 5, 3, 6 for the same values.
    save_npy("f32_fortran.npy", np.asfortranarray(values), (1, 0))
    save_npy("i32_fortran_3d.npy", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)), (1, 0))
    save_npy("f64_scalar.npy", np.array(-0.25, dtype=np.float64), (1, 0))
    save_npy("i64_empty.npy", np.zeros((0, 4), dtype=np.int64), (1, 0))
    save_npy("u8.npy", np.array([0, 7, 255], dtype=np.uint8), (1, 0))
    save_npy("bool.npy", np.array([[True, False], [False, True]]), (1, 0))
    save_npy("i32.npy", np.array([-2147483648, 0, 2147483647], dtype=np.int32), (1, 0))


if __name__ == "__main__":
    main()
