"""graft.Tensor from Python: factories, indexing, operators, math, autograd, errors."""
import numpy as np
import pytest

import graft


def test_factories_and_keywords():
    assert graft.zeros(2, 3).shape == (2, 3) and graft.zeros((2, 3)).dtype == graft.float32
    assert graft.ones(2, dtype=graft.int64).tolist() == [1, 1]
    assert graft.full((2,), 7).dtype == graft.int64
    assert graft.arange(0, 10, 3).tolist() == [0, 3, 6, 9]
    assert graft.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert graft.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert graft.tensor([]).dtype == graft.float32
    assert graft.tensor([[1, 2], [3, 4]]).dtype == graft.int64
    assert graft.tensor(2**62).item() == 2**62  # int64 kept exact
    assert graft.tensor(np.arange(3, dtype=np.int32)).dtype == graft.int32
    with pytest.raises(ValueError, match="ragged"):
        graft.tensor([[1, 2], [3]])
    graft.manual_seed(0)
    a = graft.rand(3)
    graft.manual_seed(0)
    assert graft.equal(a, graft.rand(3))


def test_indexing_matches_numpy():
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    t = graft.tensor(a)
    for key in [1, -1, (1, 2), (slice(None), 1), (Ellipsis, 2), (None, 0), (slice(1, None, 2),),
                (slice(None), 0, [1, 3]), (graft.tensor([0, 2]),)]:
        want = a[key if not isinstance(key, tuple) else tuple(
            k.numpy() if isinstance(k, graft.Tensor) else k for k in key)]
        assert t[key].tolist() == want.tolist(), key
    # PyTorch's rule where NumPy differs: the integer is applied first, so the list's dim
    # keeps its place (API.md).
    assert t[0, :, [1, 3]].shape == (4, 2) and a[0, :, [1, 3]].shape == (2, 4)
    t[0, :, 1] = -1
    assert (t[0, :, 1] == -1).all().item()
    t[t > 50] = 0
    assert t.max().item() == 50


def test_operators_with_scalars_on_either_side():
    t = graft.tensor([1.0, 2.0, 4.0])
    assert (2 * t + 1).tolist() == [3.0, 5.0, 9.0]
    assert (1 - t).tolist() == [0.0, -1.0, -3.0]
    assert (8 / t).tolist() == [8.0, 4.0, 2.0]
    assert (t ** 2).tolist() == [1.0, 4.0, 16.0]
    assert (2 ** t).tolist() == [2.0, 4.0, 16.0]
    assert (-t).tolist() == [-1.0, -2.0, -4.0]
    assert (t % 3).tolist() == [1.0, 2.0, 1.0]
    assert (t >= 2).tolist() == [False, True, True]
    assert (graft.tensor([1, 2]) + 0.5).dtype == graft.float32  # a float scalar, as PyTorch
    assert (graft.tensor([[1.0, 2.0]]) @ graft.tensor([[3.0], [4.0]])).item() == 11.0
    t += 1
    assert t.tolist() == [2.0, 3.0, 5.0]
    with pytest.raises(TypeError, match="expected a Tensor or a number"):
        t + "x"


def test_reductions_and_math():
    t = graft.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.sum().item() == 10.0
    assert t.sum(0).tolist() == [4.0, 6.0]
    assert t.mean((0, 1), keepdim=True).shape == (1, 1)
    assert t.argmax(1).tolist() == [1, 1]
    assert graft.sum(t, 1).tolist() == [3.0, 7.0]
    assert t.var(correction=0).item() == pytest.approx(1.25)
    values, indices = t.sort(1, descending=True)
    assert values.tolist() == [[2.0, 1.0], [4.0, 3.0]] and indices.tolist() == [[1, 0], [1, 0]]
    assert graft.allclose(graft.softmax(t, 1).sum(1), graft.ones(2))
    assert graft.cat([t, t], 1).shape == (2, 4) and graft.stack([t, t]).shape == (2, 2, 2)
    assert graft.where(t > 2, t, 0.0).tolist() == [[0.0, 0.0], [3.0, 4.0]]
    # GELU's tanh form: its own op, the one nn.functional.gelu(x, "tanh") calls.
    assert graft.allclose(graft.gelu_tanh(t), graft.nn.functional.gelu(t, approximate="tanh"))
    assert graft.gelu_tanh(t)[1, 1].item() == pytest.approx(3.99993, abs=1e-5)


def test_views_share_memory():
    t = graft.zeros(2, 3)
    t.view(3, 2)[0, 0] = 1
    t.reshape((6,))[5] = 2
    t.T[0, 1] = 3
    assert t.tolist() == [[1.0, 0.0, 0.0], [3.0, 0.0, 2.0]]
    assert t.permute(1, 0).shape == (3, 2) and t.unsqueeze(0).shape == (1, 2, 3)
    assert [row.tolist() for row in t] == t.tolist() and len(t) == 2


def test_autograd():
    w = graft.tensor([1.0, -2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    assert loss.grad_fn is not None and w.is_leaf and w.grad is None
    loss.backward()
    assert w.grad.tolist() == [2.0, -4.0, 6.0]
    w.grad = None
    with graft.no_grad():
        assert not (w * 2).requires_grad
        with graft.enable_grad():
            assert (w * 2).requires_grad

    @graft.no_grad()
    def f(x):
        return x * 2
    assert not f(w).requires_grad
    seen = []
    x = graft.ones(2, requires_grad=True)
    x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]]


def test_errors_arrive_as_graft_error_with_the_message():
    with pytest.raises(graft.Error, match=r"matmul"):
        graft.ones(2, 3) @ graft.ones(2, 3)
    with pytest.raises(graft.Error):
        graft.ones(2).view(3)
    with pytest.raises(graft.Error, match="ambiguous"):
        bool(graft.ones(2))


def test_an_index_past_the_end_is_an_index_error():
    t = graft.arange(3)
    for index in (5, -4, (0, 7), graft.tensor([1, 3])):
        with pytest.raises(IndexError, match="is out of bounds for dimension") as error:
            t.reshape(1, 3)[index] if isinstance(index, tuple) else t[index]
        assert isinstance(error.value, graft.Error)  # and still graft's error
    with pytest.raises(IndexError):
        t[3] = 1
    assert "IndexError" not in graft.__all__  # `from graft import *` keeps the builtin


def test_autograd_grad_and_retain_grad():
    x = graft.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    (dx,) = graft.autograd.grad(y.sum(), x, create_graph=True)
    assert dx.tolist() == [2.0, 4.0] and dx.requires_grad
    (ddx,) = graft.autograd.grad(dx.sum(), [x])
    assert ddx.tolist() == [2.0, 2.0]
    z = graft.ones(2, requires_grad=True)
    assert graft.autograd.grad([(x * 3).sum()], [x, z], allow_unused=True)[1] is None
    assert graft.autograd.grad(x * 3, x, grad_outputs=[graft.tensor([1.0, -1.0])])[0].tolist() == [
        3.0, -3.0]
    # autograd.grad filled y's retained gradient too (1 from y.sum()), as PyTorch's does.
    assert y.retains_grad and y.grad.tolist() == [1.0, 1.0]
    (y * 2).sum().backward()
    assert y.grad.tolist() == [3.0, 3.0] and x.grad.tolist() == [4.0, 8.0]


def test_tensors_hash_by_identity():
    a, b = graft.ones(2), graft.ones(2)
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1


def test_dtype_and_device_objects():
    assert repr(graft.float32) == "graft.float32" and graft.float64.is_floating_point
    assert str(graft.device("cpu")) == "cpu"
    assert repr(graft.device("cuda:1")) == "device(type='cuda', index=1)"
    assert graft.ones(2).to(graft.float64).dtype == graft.float64
    assert graft.ones(2).to("cpu").device == graft.device("cpu")


def test_numpy_scalars_are_numbers():
    import numpy as np
    t = graft.zeros(3)
    assert (t + np.float32(1.5)).tolist() == [1.5, 1.5, 1.5]
    assert (t + np.int64(2)).dtype == graft.float32
    assert graft.full((1,), np.bool_(True)).dtype == graft.bool
    assert (graft.ones(2, dtype=graft.int64) * np.int32(3)).tolist() == [3, 3]
