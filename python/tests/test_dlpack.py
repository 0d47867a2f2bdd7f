"""__dlpack__ / __dlpack_device__ / graft.from_dlpack with NumPy, graft itself, raw capsules,
(PyTorch: test_torch_interop.py)."""
import numpy as np
import pytest

import graft


def test_numpy_reads_graft_through_dlpack():
    t = graft.arange(6, dtype=graft.int32).reshape(2, 3)
    a = np.from_dlpack(t)  # NumPy marks DLPack imports read-only; writes go through graft
    t[0, 0] = 42
    assert a[0, 0] == 42 and a.shape == (2, 3) and a.dtype == np.int32
    assert t.__dlpack_device__() == (1, 0)


def test_graft_reads_numpy_through_dlpack():
    a = np.arange(6.0).reshape(3, 2)[:, 1]
    t = graft.from_dlpack(a)
    assert t.tolist() == [1.0, 3.0, 5.0] and t.stride() == (2,)
    t[0] = -1
    assert a[0] == -1


def test_graft_to_graft_is_the_same_storage():
    t = graft.ones(3)
    u = graft.from_dlpack(t)
    assert u.data_ptr() == t.data_ptr()
    version = t._version()
    u.add_(1)
    assert t._version() == u._version() == version + 1


@pytest.mark.parametrize("max_version,name", [(None, "dltensor"), ((0, 8), "dltensor"),
                                               ((1, 0), "dltensor_versioned")])
def test_capsule_kind_follows_max_version(max_version, name):
    capsule = graft.ones(2).__dlpack__(max_version=max_version)
    assert f"\"{name}\"" in repr(capsule)
    assert graft.from_dlpack(capsule).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="consumed only once"):
        graft.from_dlpack(capsule)


def test_unconsumed_capsules_free_their_tensor():
    for versioned in (None, (1, 0)):
        for _ in range(1000):
            graft.ones(1000).__dlpack__(max_version=versioned)


def test_copy_and_device_arguments():
    t = graft.ones(2)
    copied = graft.from_dlpack(t.__dlpack__(copy=True))
    copied.zero_()
    assert t.tolist() == [1.0, 1.0]
    same = graft.from_dlpack(t.__dlpack__(dl_device=(1, 0), copy=False))
    assert same.data_ptr() == t.data_ptr()
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(7, 0))


def test_tensors_that_require_grad_are_not_exported():
    with pytest.raises(graft.Error, match="detach"):
        graft.ones(2, requires_grad=True).__dlpack__()


def test_unsupported_dtype_is_a_clear_error():
    with pytest.raises(graft.Error, match="complex64"):
        graft.from_dlpack(np.zeros(3, np.complex64))
