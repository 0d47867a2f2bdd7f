"""graft: NumPy on the GPU plus autograd, in C++, here from Python.

The compiled module graft._C holds everything; this package adds what is more natural in
Python: no_grad() as a context manager and decorator, the functional forms of the tensor
methods (graft.exp(t) as t.exp()), from_dlpack for any producer, attribute
registration in nn.Module subclasses (self.fc = nn.Linear(...)), and optimizers'
param_groups as PyTorch's list of dicts.
"""

import collections.abc as _collections_abc
import functools as _functools
import sys as _sys

from . import _C
from ._C import *  # noqa: F401,F403  (Tensor, dtypes, factories, from_numpy, save, load ...)
from ._C import Error, Tensor, amp, autograd, cuda, data, nn, optim  # noqa: F401

# `import graft.nn`, `from graft.nn import functional`: the compiled submodules as modules.
for _module in (nn, nn.functional, optim, amp, data, cuda, autograd):
    _sys.modules[_module.__name__.replace("._C.", ".", 1)] = _module

__all__ = [name for name in dir(_C) if not name.startswith("_")] + [
    "no_grad", "enable_grad", "autocast", "from_dlpack"]


class _GradMode:
    """Sets grad mode for a with-block, or for every call of a decorated function."""

    _enabled = True

    def __enter__(self):
        self._previous = _C.is_grad_enabled()
        _C.set_grad_enabled(self._enabled)
        return self

    def __exit__(self, *exc):
        _C.set_grad_enabled(self._previous)
        return False

    def __call__(self, function):
        @_functools.wraps(function)
        def wrapper(*args, **kwargs):
            with type(self)():
                return function(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """with graft.no_grad(): ... records nothing for autograd (torch.no_grad)."""

    _enabled = False


class enable_grad(_GradMode):
    """Turns recording back on inside a no_grad block (torch.enable_grad)."""

    _enabled = True


class autocast:
    """with graft.autocast("cpu", dtype=graft.bfloat16): ... (torch.autocast): matmuls and
    convolutions in the 16-bit dtype, softmax, norms and losses in float32 (docs/half.md).
    Also a decorator."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        # cache_enabled is taken for torch.autocast's signature: graft's cache of casts is
        # always on, keyed on each weight's version, so it is never stale (docs/half.md).
        self._args = (device_type, dtype, enabled)
        _C._AutocastGuard(*self._args)  # checks the arguments now, as torch.autocast does

    def __enter__(self):
        self._guard = _C._AutocastGuard(*self._args)
        return self

    def __exit__(self, *exc):
        del self._guard  # the guard's destructor restores the state it found
        return False

    def __call__(self, function):
        @_functools.wraps(function)
        def wrapper(*args, **kwargs):
            with autocast(*self._args):
                return function(*args, **kwargs)
        return wrapper


def from_dlpack(obj):
    """A graft tensor sharing memory with any DLPack producer (torch, NumPy, CuPy, JAX) or
    a DLPack capsule. A CUDA producer is asked to order its work before graft's stream."""
    if type(obj).__name__ == "PyCapsule":
        return _C._from_dlpack_capsule(obj)
    device_type, _ = obj.__dlpack_device__()
    # graft queues CUDA work on the legacy default stream, which DLPack numbers 1.
    stream = 1 if device_type == 2 else None
    try:
        capsule = obj.__dlpack__(stream=stream, max_version=(1, 1))
    except TypeError:  # producers older than DLPack 1.0 (NumPy < 2.1) take no max_version
        capsule = obj.__dlpack__(stream=stream)
    return _C._from_dlpack_capsule(capsule)


# graft.exp(t), graft.sum(t, 1), ...: the functional spelling of the tensor methods.
def _functional(name):
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = name
    function.__doc__ = f"graft.{name}(t, ...) is t.{name}(...)."
    return function


for _name in (
        "neg abs exp log sqrt rsqrt sin cos tanh sigmoid relu gelu gelu_tanh silu log1p expm1 erf "
        "floor ceil round sign reciprocal square tan add sub mul div pow maximum minimum atan2 "
        "fmod remainder eq ne lt le gt ge sum mean prod max min logsumexp all any var std argmax "
        "argmin norm matmul mm bmm softmax log_softmax clamp masked_fill cumsum cumprod sort "
        "argsort topk tril triu gather index_select scatter_add multinomial reshape flatten "
        "transpose permute unsqueeze squeeze narrow select").split():
    globals()[_name] = _functional(_name)
    __all__.append(_name)
del _name


def _module_setattr(self, name, value):
    # self.fc = nn.Linear(...) registers the child under its attribute name, as in PyTorch.
    if isinstance(value, nn.Module) and not name.startswith("_"):
        self.register_module(name, value)
    object.__setattr__(self, name, value)


nn.Module.__setattr__ = _module_setattr


class _ModuleList(nn.ModuleList):
    """nn.ModuleList(modules=None): modules held by position, for a forward that calls them
    itself; iterating stops at the IndexError past the end."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class _Sequential(nn.Sequential):
    __doc__ = nn.Sequential.__doc__

    def __init__(self, *modules):
        super().__init__()
        for module in modules:
            self.append(module)


for _cls, _name in ((_ModuleList, "ModuleList"), (_Sequential, "Sequential")):
    _cls.__name__ = _cls.__qualname__ = _name
    setattr(nn, _name, _cls)


class _ParamGroup(_collections_abc.MutableMapping):
    """optimizer.param_groups[g], a live view of group g as PyTorch's dict: 'params', 'lr'
    and the algorithm's options under graft's names (Adam's also as the tuple 'betas').
    Writes go to the optimizer: `group['lr'] = 0.01` is what a hand-written schedule does."""

    def __init__(self, optimizer, index):
        self._optimizer, self._index = optimizer, index

    def _options(self):
        options = self._optimizer._param_group_options(self._index)
        if "beta1" in options:
            options["betas"] = (options["beta1"], options["beta2"])
        return options

    def __getitem__(self, key):
        if key == "params":
            return self._optimizer._param_group_params(self._index)
        return self._options()[key]

    def __setitem__(self, key, value):
        if key == "params":
            raise TypeError("graft cannot change a group's parameters; build a new optimizer "
                            "over the ones you want")
        if key == "betas" and "beta1" in self._options():
            for name, beta in zip(("beta1", "beta2"), value):
                self._optimizer._set_param_group_option(self._index, name, beta)
            return
        self._optimizer._set_param_group_option(self._index, key, value)

    def __delitem__(self, key):
        raise TypeError("a param group's entries cannot be deleted")

    def __iter__(self):
        return iter(["params", *self._options()])

    def __len__(self):
        return 1 + len(self._options())

    def __repr__(self):
        return repr(dict(self))


optim.Optimizer.param_groups = property(
    lambda self: [_ParamGroup(self, g) for g in range(self._param_group_count())],
    doc="The parameter groups as PyTorch's list of dicts, each a live view (_ParamGroup).")
