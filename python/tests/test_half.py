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


def test_grad_scaler_is_spelled_as_torch_amp():
    scaler = graft.amp.GradScaler("cpu", init_scale=8.0)  # torch.amp.GradScaler(device, ...)
    assert graft.amp.GradScaler(device="cpu").get_scale() == 65536.0
    state = scaler.state_dict()
    assert state == {"scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                     "growth_interval": 2000, "_growth_tracker": 0}
    assert isinstance(state["scale"], float) and isinstance(state["growth_interval"], int)
    state["scale"] = 4.0
    scaler.load_state_dict(state)  # plain numbers, as PyTorch's state_dict holds
    assert scaler.get_scale() == 4.0
    with pytest.raises(graft.Error, match="tpu"):
        graft.amp.GradScaler("tpu")


def test_a_number_over_a_tensor_is_its_reciprocal_times_the_number():
    # torch/_tensor.py's __rtruediv__: the reciprocal rounded first, in float32 under autocast.
    x = graft.tensor([3.0, 7.0, 0.1])
    expected = (x.reciprocal() * 2.0).tolist()
    assert (2.0 / x).tolist() == expected
    with graft.autocast("cpu", dtype=graft.bfloat16):
        assert (2.0 / x.bfloat16()).dtype == graft.float32


def test_products_with_a_number_round_once_in_16_bits():
    # 0.5 / float16(0.001) would be 499.75: the number is read in float32, as PyTorch does.
    assert (graft.full((1,), 0.5).half() / 0.001).tolist() == [500.0]
    assert (graft.full((1,), 0.55078125).bfloat16() / 0.3).tolist() == [1.8359375]
