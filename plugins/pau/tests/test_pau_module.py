"""The PAU module: registration through the entry point, per-layer and per-channel
coefficients, dtypes, memory and bad input."""

from __future__ import annotations

import copy

import pytest
import torch
from ganzoo_pau import PadeActivation, pade_activation

from ganzoo.activations import ACTIVATIONS, create_activation
from ganzoo.architectures import get_architecture
from ganzoo.errors import ConfigError


def test_registered_through_the_entry_point():
    """ganzoo finds `pau` from this distribution's entry point, not from a built-in."""
    assert ACTIVATIONS.origin("pau").startswith("ganzoo-pau ")
    assert isinstance(create_activation("pau"), PadeActivation)


def test_two_layers_do_not_share_coefficients():
    """Every layer of a network gets its own coefficients: in an mlp with PAU everywhere, one
    optimizer step moves each unit's coefficients differently, and editing one unit leaves
    the others untouched."""
    torch.manual_seed(0)
    mlp = get_architecture("mlp").generator(
        latent_dim=2, data_shape=(2,), hidden_dim=8, depth=3, activation="pau"
    )
    units = [m for m in mlp.modules() if isinstance(m, PadeActivation)]
    assert len(units) == 3
    pointers = {p.data_ptr() for u in units for p in u.parameters()}
    assert len(pointers) == 2 * len(units)
    optimizer = torch.optim.SGD(mlp.parameters(), lr=0.1)
    mlp(torch.randn(16, 2)).pow(2).mean().backward()
    optimizer.step()
    numerators = [u.numerator.detach().clone() for u in units]
    assert not torch.equal(numerators[0], numerators[1])
    assert not torch.equal(numerators[1], numerators[2])
    with torch.no_grad():
        units[0].numerator.zero_()
    assert torch.equal(units[1].numerator, numerators[1])


def test_per_channel_equals_separate_units():
    """num_parameters=C applies channel c's own coefficients to channel c: the same as C
    separate units on the C slices."""
    torch.manual_seed(1)
    unit = PadeActivation(num_parameters=3)
    with torch.no_grad():
        unit.numerator.add_(0.1 * torch.randn_like(unit.numerator))
        unit.denominator.add_(0.1 * torch.randn_like(unit.denominator))
    x = torch.randn(4, 3, 5, 5)
    out = unit(x)
    for c in range(3):
        single = PadeActivation()
        with torch.no_grad():
            single.numerator.copy_(unit.numerator[c : c + 1])
            single.denominator.copy_(unit.denominator[c : c + 1])
        assert torch.allclose(out[:, c], single(x[:, c]), atol=1e-6)


def test_per_channel_gradients_sum_over_batch_and_space():
    """The per-channel coefficient gradients equal those of separate units, summed per channel
    over the batch and the spatial positions."""
    torch.manual_seed(2)
    unit = PadeActivation(num_parameters=2).double()
    x = torch.randn(3, 2, 4, dtype=torch.float64)
    unit(x).pow(2).sum().backward()
    for c in range(2):
        single = PadeActivation().double()
        single(x[:, c]).pow(2).sum().backward()
        assert torch.allclose(unit.numerator.grad[c], single.numerator.grad[0])
        assert torch.allclose(unit.denominator.grad[c], single.denominator.grad[0])


def test_half_precision_is_computed_in_float32():
    """float16 and bfloat16 inputs give their own dtype back, equal to the float32 result
    rounded; gradients flow in the input's dtype."""
    x = torch.linspace(-4, 4, 101)
    unit = PadeActivation()
    reference = unit(x)
    for dtype in (torch.float16, torch.bfloat16):
        xh = x.to(dtype).requires_grad_()
        out = unit(xh)
        assert out.dtype == dtype
        assert torch.allclose(out.float(), unit(xh.detach().float()).to(dtype).float())
        assert torch.allclose(out.float(), reference, atol=0.05)
        out.sum().backward()
        assert xh.grad.dtype == dtype and torch.isfinite(xh.grad).all()


def test_saves_only_its_input_for_backward():
    """The forward keeps the input and the coefficients, like LeakyReLU keeps its input: no
    power of x or intermediate polynomial is stored."""
    x = torch.randn(8, 16, requires_grad=True)
    unit = PadeActivation()
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        unit(x)
    coefficient_bytes = sum(p.numel() * p.element_size() for p in unit.parameters())
    assert sum(storages.values()) == x.numel() * 4 + coefficient_bytes


def test_state_dict_and_deepcopy_round_trip():
    """A trained unit's coefficients survive state_dict and deepcopy."""
    unit = PadeActivation(num_parameters=2)
    with torch.no_grad():
        unit.numerator.mul_(1.5)
    other = PadeActivation(num_parameters=2)
    other.load_state_dict(unit.state_dict())
    x = torch.randn(3, 2)
    assert torch.equal(other(x), unit(x))
    assert torch.equal(copy.deepcopy(unit)(x), unit(x))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_parameters": 0}, "num_parameters must be >= 1"),
        ({"num_parameters": 2.0}, "must be an int"),
        ({"negative_slope": float("nan")}, "finite number"),
        ({"negative_slope": "0.2"}, "finite number"),
    ],
)
def test_bad_arguments_are_config_errors(kwargs, message):
    """Each bad constructor argument is one ConfigError naming it."""
    with pytest.raises(ConfigError, match=message):
        PadeActivation(**kwargs)


def test_channel_mismatch_says_what_to_set():
    """Per-channel coefficients on an input with other channels name both counts and the fix."""
    unit = PadeActivation(num_parameters=4)
    with pytest.raises(ConfigError, match="num_parameters=4.*3 channels.*Set num_parameters"):
        unit(torch.randn(2, 3, 5))
    with pytest.raises(ConfigError, match="2-D"):
        pade_activation(torch.randn(3), torch.ones(6), torch.ones(1, 4))
