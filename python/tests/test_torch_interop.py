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


def _pair(values, requires_grad=False, dtype="float64"):
    """The same values as a graft tensor and a torch tensor."""
    import numpy as np

    a = np.asarray(values, dtype=dtype)
    g = graft.from_numpy(a.copy())
    t = torch.from_numpy(a.copy())
    if requires_grad:
        g.requires_grad_()
        t.requires_grad_()
    return g, t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch_with_the_same_keywords(reduction):
    import numpy as np

    rng = np.random.default_rng(3)
    gx, tx = _pair(rng.normal(size=(5, 4)), requires_grad=True)
    gw, tw = _pair([0.5, 2.0, 1.0, 3.0])
    gy, ty = _pair([3, 0, -100, 1, 1], dtype="int64")
    cases = [
        ("cross_entropy", dict(weight=(gw, tw), ignore_index=-100, label_smoothing=0.2), gy, ty),
        ("nll_loss", dict(weight=(gw, tw)), gy, ty),
    ]
    gp, tp = _pair(rng.uniform(0.05, 0.95, size=(5, 4)), requires_grad=True)
    gq, tq = _pair(rng.uniform(0, 1, size=(5, 4)))
    gt, tt = _pair(rng.normal(size=(5, 4)) * 2)
    for name, kwargs, g_target, t_target, g_in, t_in in [
        *[(n, k, gt_, tt_, gx, tx) for n, k, gt_, tt_ in cases],
        ("smooth_l1_loss", dict(beta=0.7), gt, tt, gx, tx),
        ("huber_loss", dict(delta=1.3), gt, tt, gx, tx),
        ("binary_cross_entropy", dict(weight=(gw, tw)), gq, tq, gp, tp),
        ("binary_cross_entropy_with_logits", dict(pos_weight=(gw, tw)), gq, tq, gx, tx),
    ]:
        g_kwargs = {k: v[0] if isinstance(v, tuple) else v for k, v in kwargs.items()}
        t_kwargs = {k: v[1] if isinstance(v, tuple) else v for k, v in kwargs.items()}
        got = getattr(graft.nn.functional, name)(g_in, g_target, reduction=reduction, **g_kwargs)
        want = getattr(torch.nn.functional, name)(t_in, t_target, reduction=reduction, **t_kwargs)
        np.testing.assert_allclose(got.numpy(force=True), want.detach().numpy(), rtol=1e-12,
                                   atol=1e-12, err_msg=name)
        g_in.grad = None
        t_in.grad = None
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_allclose(g_in.grad.numpy(), t_in.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name + " gradient")


def test_loss_modules_take_torchs_keywords():
    import numpy as np

    gx, tx = _pair(np.linspace(-2, 2, 12).reshape(4, 3))
    gw, tw = _pair([1.0, 0.5, 2.0])
    gy, ty = _pair([0, 2, 1, 2], dtype="int64")
    got = graft.nn.CrossEntropyLoss(weight=gw, label_smoothing=0.1)(gx, gy).item()
    want = torch.nn.CrossEntropyLoss(weight=tw, label_smoothing=0.1)(tx, ty).item()
    assert got == pytest.approx(want, rel=1e-12)
    assert [n for n, _ in graft.nn.NLLLoss(weight=gw).named_buffers()] == ["weight"]
    gt, tt = _pair(np.linspace(1, -1, 12).reshape(4, 3))
    for g_loss, t_loss in [
        (graft.nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5)),
        (graft.nn.HuberLoss(reduction="sum", delta=2.0), torch.nn.HuberLoss(reduction="sum", delta=2.0)),
        (graft.nn.BCEWithLogitsLoss(pos_weight=gw), torch.nn.BCEWithLogitsLoss(pos_weight=tw)),
        (graft.nn.BCELoss(), torch.nn.BCELoss()),
    ]:
        g_in, t_in = (gx.sigmoid(), tx.sigmoid()) if isinstance(g_loss, graft.nn.BCELoss) else (gx, tx)
        g_target, t_target = (gt.sigmoid(), tt.sigmoid())
        assert g_loss(g_in, g_target).item() == pytest.approx(t_loss(t_in, t_target).item(), rel=1e-12)


def test_retain_grad_matches_torch():
    gx, tx = _pair([1.0, -2.0, 3.0], requires_grad=True)
    results = []
    for x in (gx, tx):
        y = x * x
        y.retain_grad()
        z = y.sigmoid()
        z.retain_grad()
        y.mul_(2)  # y now retains the gradient of its new value
        (z * y).sum().backward()
        results.append((y.retains_grad, y.grad.tolist(), z.grad.tolist(), x.grad.tolist()))
    assert results[0][0] and results[1][0]
    for got, want in zip(results[0][1:], results[1][1:]):
        assert got == pytest.approx(want, rel=1e-12)
