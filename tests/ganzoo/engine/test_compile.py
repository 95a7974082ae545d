"""train.compile: G, D and the loss compiled once give eager's losses on the CPU; a changed
batch size recompiles a bounded number of times; a penalty loss keeps its critic eager.

Inductor's C++ code generation takes minutes on the shared CPUs, so the default tests compile
with the aot_eager backend (the same dynamo capture, guards, recompiles and AOTAutograd graphs,
without code generation); the inductor run is marked slow."""

from __future__ import annotations

import copy

import pytest
import torch
from torch._dynamo.utils import counters

from ganzoo.architectures import get_architecture
from ganzoo.cli import main
from ganzoo.engine.step import GANStep, needs_double_backward
from ganzoo.losses import build_loss


def dcgan_step(compile_mode, loss="bce", seed=0, backend="aot_eager"):
    """A tiny DCGAN (width 8, 28 px, one channel) step, the same weights for every seed."""
    torch.manual_seed(seed)
    arch = get_architecture("dcgan")
    g = arch.generator(data_shape=(1, 28, 28), width=8, latent_dim=8)
    d = arch.discriminator(data_shape=(1, 28, 28), width=8)
    return GANStep(
        g,
        d,
        torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        build_loss(loss),
        torch.device("cpu"),
        compile_mode=compile_mode,
        compile_backend=backend,
    )


def losses(step, batches, seed=1):
    torch.manual_seed(seed)
    return [step.update(batch, i + 1) for i, batch in enumerate(batches)]


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    counters.clear()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize("backend", ["aot_eager", pytest.param("inductor", marks=pytest.mark.slow)])
def test_compiled_step_gives_the_losses_of_eager(backend):
    """4 iterations of the same tiny DCGAN from the same weights and noise: every logged value
    of the compiled step equals eager's within float tolerance."""
    torch.manual_seed(5)
    batches = [torch.rand(16, 1, 28, 28) * 2 - 1 for _ in range(4)]
    eager = losses(dcgan_step(None), batches)
    compiled = losses(dcgan_step("default", backend=backend), batches)
    assert counters["stats"]["unique_graphs"] > 0  # the compiled step did compile
    for got, want in zip(compiled, eager, strict=True):
        assert set(got) == set(want)
        for key in want:
            assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-5), key


def test_a_changed_batch_size_recompiles_a_bounded_number_of_times():
    """Steady iterations compile nothing new; a last, smaller batch recompiles once (dynamic
    shapes), and further sizes reuse that graph: the count of compiled frames stops growing."""
    step = dcgan_step("default")
    torch.manual_seed(2)
    full = [torch.rand(16, 1, 28, 28) for _ in range(3)]
    losses(step, full[:2])
    after_warmup = counters["stats"]["unique_graphs"]
    losses(step, full[2:])
    assert counters["stats"]["unique_graphs"] == after_warmup
    losses(step, [torch.rand(8, 1, 28, 28)])
    after_new_size = counters["stats"]["unique_graphs"]
    losses(step, [torch.rand(n, 1, 28, 28) for n in (4, 12, 8)])
    assert counters["stats"]["unique_graphs"] == after_new_size
    assert after_new_size <= 2 * after_warmup


def test_a_penalty_loss_keeps_its_critic_eager_and_trains():
    """WGAN-GP differentiates through D's input gradient, which compiled graphs cannot: D and
    the loss stay eager (only G is compiled) and the step trains to finite losses."""
    step = dcgan_step("default", loss="wgan_gp")
    assert needs_double_backward(step.loss)
    assert step._d_objective.__name__ == "d_objective"  # the plain function, not compiled
    assert not isinstance(step.discriminator, torch._dynamo.eval_frame.OptimizedModule)
    out = losses(step, [torch.rand(8, 1, 28, 28) for _ in range(2)])
    assert all(torch.isfinite(torch.tensor(list(o.values()))).all() for o in out)


def test_compiled_networks_share_the_weights_that_are_checkpointed():
    """Compiling wraps G and D for the step only: the modules the trainer saves keep their
    state-dict keys and are the ones the optimizers update."""
    step = dcgan_step("default")
    keys = list(copy.deepcopy(step.generator.state_dict()))
    before = copy.deepcopy(step.generator.state_dict())
    losses(step, [torch.rand(16, 1, 28, 28)])
    assert list(step.generator.state_dict()) == keys
    assert not any("_orig_mod" in key for key in keys)
    changed = [k for k, v in step.generator.state_dict().items() if not torch.equal(v, before[k])]
    assert changed  # the optimizer updated the very weights the checkpoint holds


def test_compile_true_trains_through_ganzoo_train_and_resumes(tmp_path, tiny_config, monkeypatch):
    """`ganzoo train ... train.compile=true train.precision=bf16` trains a tiny run and resumes
    it (compiled with aot_eager here: inductor's code generation takes minutes on these CPUs)."""
    real_compile = torch.compile
    modes = []

    def compile_aot_eager(function, mode=None, **_):
        modes.append(mode)
        return real_compile(function, backend="aot_eager")

    monkeypatch.setattr(torch, "compile", compile_aot_eager)
    out = tmp_path / "runs"
    args = ["train", str(tiny_config(iterations=4)), "train.compile=true", "train.precision=bf16"]
    assert main([*args, "--out", str(out)]) == 0
    (run_dir,) = (out / "tiny").iterdir()
    assert modes and set(modes) == {"default"}
    assert main(["train", "--resume", str(run_dir), "train.iterations=6"]) == 0
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 6
