"""Residual blocks, conditional batch norm, spectral-norm factories (architectures/blocks.py)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.architectures.blocks import (
    ConditionalBatchNorm2d,
    DownBlock,
    OptimizedDownBlock,
    UpBlock,
    apply_spectral_norm,
    check_spectral_norm_flag,
    conv2d,
    embedding,
    linear,
    parametrizations_on,
)
from ganzoo.errors import ConfigError


def _largest_singular_value(module: nn.Module) -> float:
    """sigma_max of the weight as torch's spectral norm sees it: (out, in * k * k)."""
    weight = module.weight.detach()
    return torch.linalg.matrix_norm(weight.flatten(1), ord=2).item()


def test_factories_init_and_wrap_only_when_asked():
    """Weights are Xavier-uniform with the given gain (every value inside the bound
    gain * sqrt(6 / (fan_in + fan_out)), the largest near it), biases 0; spectral_norm wraps
    the weight and keeps the parameter count (the raw weight is the parameter)."""
    torch.manual_seed(0)
    conv = conv2d(16, 32, 3, 1, gain=math.sqrt(2))
    bound = math.sqrt(2) * math.sqrt(6 / (16 * 9 + 32 * 9))
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.95 * bound
    assert torch.all(conv.bias == 0) and not parametrizations_on(conv)
    wrapped = conv2d(16, 32, 3, 1, spectral_norm=True)
    assert parametrizations_on(wrapped)
    assert sum(p.numel() for p in wrapped.parameters()) == 32 * 16 * 9 + 32
    assert parametrizations_on(linear(8, 1, spectral_norm=True))
    assert parametrizations_on(embedding(10, 8, spectral_norm=True))
    assert not parametrizations_on(embedding(10, 8))


@pytest.mark.parametrize("bad", ["yes", 1, None, "true"])
def test_spectral_norm_flag_must_be_a_bool(bad):
    """spectral_norm: "yes" (or 1, or null) is a one-line ConfigError naming the network."""
    with pytest.raises(ConfigError, match=r"resnet generator spectral_norm must be true or false"):
        check_spectral_norm_flag("resnet generator", bad)
    assert check_spectral_norm_flag("x", True) is True


def test_spectral_norm_tracks_the_weight_through_power_iterations():
    """After the raw weights change (as an optimizer step would change them) a few training
    forwards (one power iteration each) bring every wrapped layer's largest singular value
    back to 1; in eval mode the estimate is frozen."""
    torch.manual_seed(0)
    model = apply_spectral_norm(
        nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 16, 4))
    )
    layers = [model[0], model[2]]
    with torch.no_grad():
        for layer in layers:
            original = layer.parametrizations.weight.original
            original.mul_(5.0).add_(0.1 * torch.randn_like(original))
    x = torch.randn(2, 3, 4, 4)
    for _ in range(5):
        model(x)
    assert [_largest_singular_value(m) for m in layers] == pytest.approx([1.0, 1.0], abs=1e-2)
    model.eval()
    u = model[0].parametrizations.weight[0]._u.clone()
    model(x)
    assert torch.equal(u, model[0].parametrizations.weight[0]._u)


def test_spectral_norm_state_resumes_exactly():
    """The power-iteration vectors are buffers in the state dict: a copy loaded from it gives
    the same outputs as the original over further training forwards (exact resume)."""
    torch.manual_seed(0)
    a = apply_spectral_norm(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(16, 1)))
    x = torch.randn(2, 3, 4, 4)
    a(x)
    torch.manual_seed(1)  # a different random u, v at construction
    b = apply_spectral_norm(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(16, 1)))
    b.load_state_dict(a.state_dict())
    for _ in range(3):
        assert torch.equal(a(x), b(x))


def test_conditional_batch_norm_is_a_per_class_scale_and_shift():
    """At init it is plain batch norm (scale 1, shift 0); with scale/shift set per class,
    row i is scale[y_i] * BN(x)_i + shift[y_i]."""
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(3, num_classes=4)
    x = torch.randn(6, 3, 2, 2)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    plain = F.batch_norm(x, None, None, training=True)
    assert torch.allclose(cbn(x, y), plain, atol=1e-6)
    with torch.no_grad():
        cbn.scale.weight.copy_(torch.arange(12.0).view(4, 3))
        cbn.shift.weight.copy_(-torch.arange(12.0).view(4, 3))
    expected = (
        torch.arange(12.0).view(4, 3)[y, :, None, None] * plain
        - torch.arange(12.0).view(4, 3)[y, :, None, None]
    )
    assert torch.allclose(cbn(x, y), expected, atol=1e-5)


def test_up_block_doubles_the_size_and_its_shortcut():
    """An up-block doubles H and W; the shortcut is a learned 1x1 conv when it up-samples, and
    the identity when neither size nor channels change (then the output is x + residual)."""
    up = UpBlock(4, 2, nn.ReLU(), nn.ReLU())
    assert up(torch.randn(2, 4, 3, 3)).shape == (2, 2, 6, 6)
    same = UpBlock(4, 4, nn.ReLU(), nn.ReLU(), upsample=False)
    assert same.shortcut is None
    with torch.no_grad():
        same.conv2.weight.zero_()
        same.conv2.bias.zero_()
    x = torch.randn(2, 4, 3, 3)
    assert torch.equal(same(x), x)  # zero residual: the identity shortcut alone


def test_shortcut_order_is_the_same_map_as_the_sngan_code():
    """We convolve before up-sampling and pool before convolving in the shortcuts (cheaper);
    a 1x1 conv commutes with both, so it equals the SNGAN code's order."""
    torch.manual_seed(0)
    up = UpBlock(4, 3, nn.Identity(), nn.Identity(), upsample_mode="bilinear")
    x = torch.randn(2, 4, 5, 5)
    sngan_order = up.shortcut(F.interpolate(x, scale_factor=2, mode="bilinear"))
    ours = F.interpolate(up.shortcut(x), scale_factor=2, mode="bilinear")
    assert torch.allclose(ours, sngan_order, atol=1e-6)
    down = DownBlock(4, 3, nn.Identity(), nn.Identity())
    assert torch.allclose(
        down.shortcut(F.avg_pool2d(x[..., :4, :4], 2)),
        F.avg_pool2d(down.shortcut(x[..., :4, :4]), 2),
        atol=1e-6,
    )


def test_down_blocks_halve_the_size_and_use_the_input_width_inside():
    """A down-block halves H and W (or not), its hidden width is its input width (SNGAN); the
    optimized block halves too and has one activation, after its first convolution."""
    down = DownBlock(4, 8, nn.ReLU(), nn.ReLU())
    assert down(torch.randn(2, 4, 8, 8)).shape == (2, 8, 4, 4)
    assert (down.conv1.in_channels, down.conv1.out_channels, down.conv2.out_channels) == (4, 4, 8)
    keep = DownBlock(4, 4, nn.ReLU(), nn.ReLU(), downsample=False)
    assert keep.shortcut is None and keep(torch.randn(1, 4, 8, 8)).shape == (1, 4, 8, 8)
    first = OptimizedDownBlock(3, 8, nn.ReLU())
    assert first(torch.randn(2, 3, 8, 8)).shape == (2, 8, 4, 4)
    fired: list[str] = []
    first.act.register_forward_hook(lambda m, i, o: fired.append("act"))
    first.conv1.register_forward_hook(lambda m, i, o: fired.append("conv1"))
    first.conv2.register_forward_hook(lambda m, i, o: fired.append("conv2"))
    first(torch.randn(1, 3, 8, 8))
    assert fired == ["conv1", "act", "conv2"]


def test_apply_spectral_norm_leaves_activations_alone():
    """A hidden activation that holds its own linear layer is not wrapped; the network's
    layers are."""
    from ganzoo.architectures.layers import HIDDEN_ACTIVATION_TAG

    act = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    setattr(act, HIDDEN_ACTIVATION_TAG, True)
    model = apply_spectral_norm(nn.Sequential(nn.Linear(4, 4), act))
    assert parametrizations_on(model[0]) and not parametrizations_on(act[0])
