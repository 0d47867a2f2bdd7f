"""graft <-> PyTorch through DLPack, both ways, CPU and CUDA. Skipped when torch is not
installed: CI does not download it (gigabytes); scripts/test_python_torch.sh installs it
from PyPI into a virtual environment and runs these."""
import pytest

import graft

torch = pytest.importorskip("torch", reason="PyTorch not installed (scripts/test_python_torch.sh)")


def test_torch_round_trip_cpu():
    t = graft.arange(6, dtype=graft.float32).reshape(2, 3)
    p = torch.from_dlpack(t)
    p[1, 1] = 9
    assert t[1, 1].item() == 9
    back = graft.from_dlpack(p.t())
    assert back.stride() == (1, 3) and back.tolist() == t.t().tolist()
    assert graft.from_dlpack(torch.tensor([True, False])).dtype == graft.bool


def test_torch_round_trip_cuda():
    if not (graft.cuda.is_available() and torch.cuda.is_available()):
        pytest.skip("no CUDA device")
    t = graft.arange(4, dtype=graft.float32, device="cuda")
    p = torch.from_dlpack(t)
    assert p.device.type == "cuda" and p.data_ptr() == t.data_ptr()
    q = torch.arange(3.0, device="cuda") * 2
    u = graft.from_dlpack(q)
    assert u.device == graft.device("cuda:0") and u.cpu().tolist() == [0.0, 2.0, 4.0]
