"""graft.nn, graft.optim, save/load and the Python examples, run as a user would."""
import os
import pathlib
import subprocess
import sys

import pytest

import graft
from graft import nn
from graft.nn import functional as F

ROOT = pathlib.Path(os.environ.get("GRAFT_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
HAS_FASHION_MNIST = pathlib.Path(
    os.environ.get("GRAFT_DATA", "/usr/share/datasets/fashion-mnist")).exists()


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__("TwoLayer")
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)
        self.scale = self.register_parameter("scale", graft.ones(1))

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x))) * self.scale


def test_python_subclass_trains_and_round_trips_its_state(tmp_path):
    graft.manual_seed(0)
    net = TwoLayer()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x, y = graft.randn(32, 4), graft.randint(0, 3, (32,))
    optimizer = graft.optim.SGD(net.parameters(), lr=0.5)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]

    path = tmp_path / "net.safetensors"
    graft.save(net.state_dict(), str(path))
    other = TwoLayer()
    other.load_state_dict(graft.load(str(path)))
    assert graft.equal(other(x), net(x))


def test_python_module_inside_a_cpp_sequential_outlives_its_name():
    seq = nn.Sequential(TwoLayer(), nn.Softmax(1))  # nothing else holds the TwoLayer
    import gc
    gc.collect()
    assert graft.allclose(seq(graft.randn(2, 4)).sum(1), graft.ones(2))
    assert len(seq) == 2 and isinstance(seq[0], TwoLayer)


def test_npz_exchanges_arrays_with_numpy(tmp_path):
    import numpy as np
    path = tmp_path / "arrays.npz"
    np.savez(path, w=np.arange(6.0).reshape(2, 3), flags=np.array([True, False]))
    arrays = graft.load_npz(str(path))
    assert list(arrays) == ["w", "flags"] and arrays["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    out = tmp_path / "out.npz"
    graft.save_npz(str(out), {"b": graft.ones(2, dtype=graft.int32), "a": graft.zeros(1)},
                   compressed=True)
    with np.load(out) as back:
        assert back.files == ["b", "a"] and back["b"].dtype == np.int32


def test_layers_optimizers_and_schedulers():
    conv = nn.Conv2d(1, 4, 3, stride=1, padding=(1, 1), bias=False)
    assert conv.bias is None and conv.weight.shape == (4, 1, 3, 3)
    assert nn.MaxPool2d(2)(graft.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    assert nn.LayerNorm(5)(graft.randn(2, 5)).shape == (2, 5)
    w = graft.zeros(3, requires_grad=True)
    optimizer = graft.optim.Adam([w], lr=0.1, betas=(0.9, 0.99))
    scheduler = graft.optim.StepLR(optimizer, step_size=1, gamma=0.5)
    optimizer.set_grad_norm_tracking(True)
    assert optimizer.grad_norm_tracking
    (w - 1).square().sum().backward()  # gradient (-2, -2, -2): norm sqrt(12)
    optimizer.step()
    scheduler.step()
    assert w.tolist() == pytest.approx([0.1, 0.1, 0.1]) and scheduler.get_last_lr() == [0.05]
    assert optimizer.last_grad_norm().item() == pytest.approx(12 ** 0.5)
    assert graft.optim.clip_grad_norm_([w], 0.1).item() > 0.1
    # parameters as torch takes them: a generator, or one tensor
    assert graft.optim.clip_grad_norm_((p for p in [w]), 0.1).item() == pytest.approx(0.1, 1e-4)
    assert graft.optim.clip_grad_norm_(w, 0.1).item() == pytest.approx(0.1, 1e-4)


def test_transformer_pieces():
    x = graft.randn(2, 5, 8)
    y = F.layer_norm(x, (8,), graft.ones(8), graft.zeros(8))
    assert y.shape == (2, 5, 8)
    assert all(sum(row) == pytest.approx(0, abs=1e-5) for batch in y.tolist() for row in batch)
    q = graft.randn(1, 1, 3, 4)
    out = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert out.shape == (1, 1, 3, 4)
    assert out.tolist()[0][0][0] == pytest.approx(q.tolist()[0][0][0])  # query 0 sees itself only
    attn = nn.MultiheadAttention(8, 2)
    assert attn(x).shape == (2, 5, 8)
    assert attn.forward(x, x, x, is_causal=True).shape == (2, 5, 8)
    assert [name for name, _ in attn.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    # torch's keywords, for the one value graft has: batch first, the output alone
    batch_first = nn.MultiheadAttention(8, 2, batch_first=True)
    assert batch_first(x, x, x, need_weights=False).shape == (2, 5, 8)
    with pytest.raises(ValueError, match="batch first"):
        nn.MultiheadAttention(8, 2, batch_first=False)
    with pytest.raises(ValueError, match="need_weights=False"):
        batch_first(x, x, x, need_weights=True)


def run_example(*args):
    # The examples import graft as a user's script would: from PYTHONPATH.
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(graft.__file__).parents[1]))
    return subprocess.run([sys.executable, *map(str, args)], env=env, capture_output=True,
                          text=True, check=True).stdout


def test_seed_example_runs():
    out = run_example(ROOT / "examples/python/seed.py")
    assert "[[1. 0.]" in out and "predicted class" in out


@pytest.mark.skipif(not HAS_FASHION_MNIST, reason="Fashion-MNIST not installed")
def test_training_example_learns():
    out = run_example(ROOT / "examples/python/train_fashion_mnist.py", "--limit", "6000")
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.75, out
