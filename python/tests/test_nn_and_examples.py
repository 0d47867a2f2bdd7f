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


def test_functional_layers_match_their_modules():
    x = graft.randn(2, 3, 6, 6)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    assert F.conv2d(x, conv.weight, conv.bias, stride=2, padding=(1, 1)).tolist() == conv(x).tolist()
    assert F.max_pool2d(x, 2).tolist() == nn.MaxPool2d(2)(x).tolist()
    out, indices = F.max_pool2d(x, (3, 3), stride=3, return_indices=True)
    assert out.shape == (2, 3, 2, 2) and indices.dtype == graft.int64
    assert (x.reshape(2, 3, 36).gather(2, indices.reshape(2, 3, 4)).reshape(2, 3, 2, 2)
            .tolist() == out.tolist())
    assert F.avg_pool2d(x, 2, stride=2).tolist() == nn.AvgPool2d(2)(x).tolist()
    assert F.adaptive_avg_pool2d(x, 1).reshape(6).tolist() == pytest.approx(
        x.mean((2, 3)).reshape(6).tolist(), abs=1e-6)
    bn = nn.BatchNorm2d(3)
    mean, var = graft.zeros(3), graft.ones(3)
    weight, bias = graft.tensor([1.0, 2.0, 0.5]), graft.tensor([0.0, -1.0, 1.0])
    bn.load_state_dict({**bn.state_dict(), "weight": weight, "bias": bias})
    got = F.batch_norm(x, mean, var, weight, bias, training=True, momentum=0.1)
    assert got.reshape(-1).tolist() == pytest.approx(bn(x).reshape(-1).tolist(), abs=1e-5)
    assert mean.tolist() == pytest.approx(dict(bn.named_buffers())["running_mean"].tolist(), abs=1e-6)
    emb = nn.Embedding(5, 2, padding_idx=0)
    ids = graft.tensor([[0, 4], [2, 2]])
    assert F.embedding(ids, emb.weight, padding_idx=0).tolist() == emb(ids).tolist()


def test_module_list_identity_one_hot_and_pad():
    class Net(nn.Module):
        def __init__(self):
            super().__init__("Net")
            self.blocks = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
            self.skip = nn.Identity()

        def forward(self, x):
            for block in self.blocks:
                x = block(x) + self.skip(x)
            return x

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    assert len(net.blocks) == 2 and net(graft.ones(1, 3)).shape == (1, 3)
    with pytest.raises(IndexError):
        net.blocks[2]
    with pytest.raises(graft.Error, match="ModuleList: forward"):
        net.blocks(graft.ones(1, 3))
    assert len(nn.Sequential(nn.ReLU(), nn.Identity())) == 2
    assert F.one_hot(graft.tensor([0, 2]), num_classes=3).tolist() == [[1, 0, 0], [0, 0, 1]]
    x = graft.arange(6.0).reshape(2, 3).requires_grad_()
    padded = F.pad(x, (1, 0, 0, 1), value=-1.0)
    assert padded.tolist() == [[-1, 0, 1, 2], [-1, 3, 4, 5], [-1, -1, -1, -1]]
    padded.sum().backward()
    assert x.grad.tolist() == [[1, 1, 1], [1, 1, 1]]
    with pytest.raises(ValueError, match="reflect"):
        F.pad(x, (1, 1), mode="reflect")


def test_param_groups_read_and_write_like_torchs():
    w = graft.zeros(3, requires_grad=True)
    optimizer = graft.optim.Adam([w], lr=0.1, betas=(0.9, 0.99))
    (group,) = optimizer.param_groups
    assert group["lr"] == pytest.approx(0.1) and group["betas"] == pytest.approx((0.9, 0.99))
    assert group["params"][0] is not None and group["params"][0].shape == (3,)
    assert {"params", "lr", "betas", "eps", "weight_decay", "amsgrad"} <= set(group)
    for g in optimizer.param_groups:  # a hand-written schedule
        g["lr"] = 0.5
    assert optimizer.lr() == 0.5 and optimizer.param_groups[0]["lr"] == 0.5
    group["betas"] = (0.8, 0.9)
    group["weight_decay"] = 0.01
    group["amsgrad"] = True
    assert optimizer.param_groups[0]["betas"] == pytest.approx((0.8, 0.9))
    state = optimizer.state_dict()
    assert state["param_groups.0.beta1"].item() == pytest.approx(0.8)
    assert state["param_groups.0.weight_decay"].item() == pytest.approx(0.01)
    assert state["param_groups.0.amsgrad"].item() is True
    with pytest.raises(KeyError, match="momentum"):
        group["momentum"] = 0.9
    with pytest.raises(graft.Error, match="eps"):
        group["eps"] = -1.0  # checked as a checkpoint's options are
    sgd = graft.optim.SGD([w], lr=0.1, momentum=0.9)
    assert sgd.param_groups[0]["momentum"] == pytest.approx(0.9) and "betas" not in sgd.param_groups[0]


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
