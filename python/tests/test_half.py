"""float16 and bfloat16 from Python: dtypes, autocast and GradScaler (docs/half.md)."""
import warnings

import numpy as np
import pytest

import graft
from graft import nn


def test_half_dtypes_and_conversions():
    h = graft.randn(4, 4).bfloat16()
    assert h.dtype == graft.bfloat16 and (h + 1.5).dtype == graft.bfloat16
    assert (h.half() + h).dtype == graft.float32  # neither holds the other's values
    assert graft.float16.is_floating_point and graft.bfloat16.itemsize == 2
    a = np.array([0.1, -2.5], dtype=np.float16)
    assert graft.from_numpy(a).half().numpy().tolist() == a.tolist()


def test_autocast_runs_matmuls_low_and_losses_in_float32():
    a, b = graft.randn(3, 4), graft.randn(4, 2)
    assert not graft.is_autocast_enabled("cpu")
    with graft.autocast("cpu", dtype=graft.bfloat16):
        assert graft.is_autocast_enabled("cpu")
        product = a @ b
        assert product.dtype == graft.bfloat16
        assert graft.softmax(product, 1).dtype == graft.float32
    assert (a @ b).dtype == graft.float32

    @graft.autocast("cpu", dtype=graft.float16)
    def forward(x, y):
        return x @ y

    assert forward(a, b).dtype == graft.float16
    with pytest.raises(graft.Error, match="autocast runs in float16 or bfloat16"):
        graft.autocast("cpu", dtype=graft.float32)


def test_grad_scaler_steps_and_skips():
    graft.manual_seed(0)
    layer = nn.Linear(3, 2)
    optimizer = graft.optim.SGD(layer.parameters(), lr=0.1)
    scaler = graft.amp.GradScaler(init_scale=1024.0)
    with graft.autocast("cpu", dtype=graft.float16):
        loss = layer(graft.randn(4, 3)).float().square().mean()
    scaler.scale(loss).backward()
    assert scaler.step(optimizer)
    scaler.update()
    assert scaler.get_scale() == 1024.0
    optimizer.zero_grad()
    scaler.scale(layer(graft.randn(4, 3)).sum() * float("inf")).backward()
    assert not scaler.step(optimizer)
    scaler.update()
    assert scaler.get_scale() == 512.0


def test_grad_scaler_after_bfloat16_autocast_warns_once():
    scaler = graft.amp.GradScaler()
    with graft.autocast("cpu", dtype=graft.bfloat16):
        loss = graft.ones(1).sum()
    with pytest.warns(UserWarning, match="bfloat16 autocast, which needs no loss scaling"):
        scaler.scale(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaler.scale(loss)  # once per scaler: silent now
        # A warning made an error propagates out of the call that warned.
        with pytest.raises(UserWarning, match="needs no loss scaling"):
            graft.amp.GradScaler().scale(loss)
