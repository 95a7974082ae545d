"""Logged values stay on the device: the step hands Ignite 0-d tensors, the running averages
are Ignite's numbers kept as tensors, the NaN guard reads the device only where told yet names
the first bad iteration, and a conditional step checks device labels without reading them."""

from __future__ import annotations

import pytest
import torch
from ignite.engine import Engine, Events
from ignite.metrics import RunningAverage

from ganzoo.engine.handlers.monitoring import attach_nan_guard, attach_running_averages
from ganzoo.engine.state import RunStatus
from ganzoo.engine.step import GANStep
from ganzoo.losses import get_loss


def mlp_pair(num_classes: int = 0):
    """A tiny MLP generator/discriminator pair on 2-D points."""
    from ganzoo.architectures import get_architecture

    arch = get_architecture("mlp")
    options = dict(data_shape=(2,), hidden_dim=8, depth=1, num_classes=num_classes)
    return arch.generator(latent_dim=3, **options), arch.discriminator(**options)


def test_the_ignite_step_returns_device_tensors_and_update_floats():
    """``step(engine, batch)`` leaves every loss value a 0-d tensor (no read per D update);
    ``step.update`` (plain loops) gives floats; the D values are float64 means."""
    torch.manual_seed(0)
    generator, discriminator = mlp_pair()
    step = GANStep(
        generator,
        discriminator,
        torch.optim.Adam(generator.parameters()),
        torch.optim.Adam(discriminator.parameters()),
        get_loss("bce"),
        torch.device("cpu"),
        n_critic=3,
    )
    engine = Engine(step)
    engine.state.iteration = 1
    output = step(engine, torch.randn(12, 2))
    assert all(torch.is_tensor(v) and v.ndim == 0 for v in output.values())
    assert output["loss_d"].dtype == torch.float64
    assert all(isinstance(v, float) for v in step.update(torch.randn(12, 2), 2).values())


def test_running_averages_are_ignites_numbers_on_the_device():
    """The same outputs through Ignite's RunningAverage (floats) and ours (tensors): equal to
    the last bit, reset when the engine starts again."""
    values = [1.5, 0.25, 3.0, -2.0, 0.125, 7.0]
    ours, ignites = Engine(lambda e, b: {"x": torch.tensor(b)}), Engine(lambda e, b: {"x": b})
    attach_running_averages(ours, ["x"])
    RunningAverage(output_transform=lambda out: out["x"], alpha=0.98).attach(ignites, "avg_x")
    seen = {"ours": [], "ignite": []}
    ours.add_event_handler(
        Events.ITERATION_COMPLETED, lambda e: seen["ours"].append(e.state.metrics["avg_x"])
    )
    ignites.add_event_handler(
        Events.ITERATION_COMPLETED, lambda e: seen["ignite"].append(e.state.metrics["avg_x"])
    )
    ours.run(values, max_epochs=1)
    ignites.run(values, max_epochs=1)
    assert all(torch.is_tensor(v) for v in seen["ours"])
    assert [float(v) for v in seen["ours"]] == seen["ignite"]
    ours.run([9.0], max_epochs=1)
    assert float(ours.state.metrics["avg_x"]) == 9.0


def test_nan_guard_reads_only_where_told_but_names_the_first_bad_iteration():
    """A NaN at iteration 3, read every 5 iterations: the run stops at 5 and reports 3; no
    read at all before then (the step's tensors are never turned into floats there)."""
    reads = []
    losses = [1.0, 1.0, float("nan"), 1.0, float("inf"), 1.0, 1.0]
    engine = Engine(lambda e, b: {"loss_d": torch.tensor(b), "loss_g": torch.tensor(1.0)})
    status = RunStatus()
    attach_nan_guard(engine, status, ("loss_d", "loss_g"), lambda i: reads.append(i) or i % 5 == 0)
    engine.run(losses, max_epochs=1)
    assert status.nan_iteration == 3 and engine.state.iteration == 5


def test_nan_guard_reads_at_the_end_of_a_run():
    """A NaN in the last iteration, between reads, is still found when the run completes."""
    engine = Engine(lambda e, b: {"loss_d": torch.tensor(b), "loss_g": torch.tensor(1.0)})
    status = RunStatus()
    attach_nan_guard(engine, status, ("loss_d", "loss_g"), lambda i: False)
    engine.run([1.0, 2.0, float("nan")], max_epochs=1)
    assert status.nan_iteration == 3


def test_device_labels_are_not_read_per_batch_but_cpu_labels_are_checked():
    """Labels on another device (here meta, which cannot be read at all) pass the per-batch
    check untouched: the dataset was checked whole; CPU labels out of range still fail."""
    from ganzoo.errors import DataError

    torch.manual_seed(0)
    generator, discriminator = mlp_pair(num_classes=3)
    step = GANStep(
        generator,
        discriminator,
        torch.optim.Adam(generator.parameters()),
        torch.optim.Adam(discriminator.parameters()),
        get_loss("bce"),
        torch.device("cpu"),
    )
    on_device = torch.tensor([0, 5, 1], device="meta")
    assert step._checked_labels(on_device, 3) is on_device
    with pytest.raises(DataError, match="label 5"):
        step._checked_labels(torch.tensor([0, 5, 1]), 3)
