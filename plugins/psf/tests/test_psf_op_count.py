"""How much work one eager PSF call does on the CPU, counted (not timed: counts do not depend
on how busy the machine is). A float32, contiguous forward launches exactly one operator
(``ganzoo::psf_forward``) and its backward exactly one (``ganzoo::psf_backward``): no separate
exp(-alpha), no dtype or contiguity copy, no allocation beyond the results; only ``x`` and
``alpha`` are saved for the backward; and a call reads no environment variable. A change that
adds work per call fails here."""

from __future__ import annotations

import collections

import pytest
import torch
from ganzoo_psf import ParametricSoftsign, _fused
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode

SHAPE = (8, 16, 6, 6)
# What the C++ kernels may allocate inside the operators (their results), and nothing else.
ALLOCATIONS = {"aten::empty", "aten::empty_like", "aten::empty_strided"}
MAX_NESTED = {"forward": 2, "backward": 3}  # empty_like (-> empty); + empty for dL/dalpha


class OperatorLog(TorchDispatchMode):
    """The operators a block of code launches (the top-level ones, as the step sees them)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(str(func))
        return func(*args, **(kwargs or {}))


def _call(num_parameters: int) -> tuple[ParametricSoftsign, torch.Tensor, torch.Tensor]:
    module = ParametricSoftsign(num_parameters, alpha_init=0.3, fused=True)
    x = torch.randn(SHAPE, requires_grad=True)
    grad = torch.randn(SHAPE)
    torch.autograd.grad(module(x), (x, module.alpha), grad)  # loads the kernels: not counted
    return module, x, grad


@pytest.mark.parametrize("num_parameters", [1, SHAPE[1]])
def test_one_operator_forward_and_one_backward(num_parameters: int) -> None:
    """The top-level operators of one forward and one backward: exactly the two PSF ops."""
    module, x, grad = _call(num_parameters)
    with OperatorLog() as forward:
        y = module(x)
    with OperatorLog() as backward:
        torch.autograd.grad(y, (x, module.alpha), grad)
    assert forward.names == ["ganzoo.psf_forward.default"]
    assert backward.names == ["ganzoo.psf_backward.default"]


def _nested_aten_ops(fn) -> collections.Counter:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return collections.Counter(e.name for e in prof.events() if e.name.startswith("aten::"))


@pytest.mark.parametrize("num_parameters", [1, SHAPE[1]])
def test_kernels_allocate_only_their_results(num_parameters: int) -> None:
    """Every ATen op run inside the operators (counted by the profiler, nested ones included)
    is an allocation of a result, at most 2 forward and 3 backward: the kernels compute
    exp(-alpha) themselves and copy nothing."""
    module, x, grad = _call(num_parameters)
    y = module(x)
    forward = _nested_aten_ops(lambda: module(x))
    backward = _nested_aten_ops(lambda: torch.autograd.grad(y, (x, module.alpha), grad))
    for name, ops in (("forward", forward), ("backward", backward)):
        assert set(ops) <= ALLOCATIONS, f"{name} runs {dict(ops)}"
        assert sum(ops.values()) <= MAX_NESTED[name], f"{name} runs {dict(ops)}"


def test_saves_only_input_and_alpha() -> None:
    """The forward keeps exactly two tensors for the backward, x and alpha themselves (no
    copy, nothing that the backward could recompute)."""
    module, x, _ = _call(SHAPE[1])
    saved: list[torch.Tensor] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        module(x)
    assert len(saved) == 2
    assert saved[0].data_ptr() == x.data_ptr() and saved[1].data_ptr() == module.alpha.data_ptr()


def test_fused_default_is_read_once_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """fused=None takes GANZOO_PSF_FUSED as it is when the module is built; calls read no
    environment (a lookup per call cost about a tenth of PSF's per-call overhead)."""
    monkeypatch.setenv(_fused.ENV_VAR, "1")
    module = ParametricSoftsign()
    lookups = []
    monkeypatch.setattr(_fused, "fused_by_default", lambda: lookups.append(1) or False)
    x = torch.randn(SHAPE, requires_grad=True)
    with OperatorLog() as forward:
        module(x).sum().backward()
    assert lookups == []
    assert forward.names[0] == "ganzoo.psf_forward.default"  # still fused, as when built
