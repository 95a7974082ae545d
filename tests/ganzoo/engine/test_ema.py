"""train.ema: an exponential moving average of the generator, checkpointed and used for samples;
train.amp: refused on the CPU, a GradScaler on CUDA."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.cli import main
from ganzoo.config import load_config
from ganzoo.data import build_dataset
from ganzoo.engine.trainer import create_training
from ganzoo.runs import create_run_dir, list_checkpoints, load_checkpoint


def make_training(tmp_path, config_path, **overrides):
    config = load_config(config_path, [f"{k}={v}" for k, v in overrides.items()])
    d = config.data
    dataset = build_dataset(d.name, d.root, image_size=d.image_size, limit=d.limit)
    return create_training(config, create_run_dir(tmp_path / "runs", "tiny"), dataset)


def test_ema_after_one_step_is_the_known_average(tmp_path, tiny_config):
    """With decay 0.75, after one update every EMA weight is 0.75 * initial + 0.25 * updated,
    it differs from the raw weights, and the sample grid draws from the EMA model."""
    training = make_training(tmp_path, tiny_config(), **{"train.ema": 0.75, "train.iterations": 1})
    initial = {k: v.clone() for k, v in training.generator.named_parameters()}
    training.run()
    assert training.sampling_generator is training.generator_ema
    ema = dict(training.generator_ema.named_parameters())
    moved = 0.0
    for name, param in training.generator.named_parameters():
        updated = param.detach()
        expected = 0.75 * initial[name] + 0.25 * updated
        torch.testing.assert_close(ema[name], expected)
        moved = max(moved, float((ema[name] - updated).abs().max()))
    assert moved > 1e-6  # the average is not the raw generator


def test_without_ema_samples_come_from_the_generator(tmp_path, tiny_config):
    """train.ema unset: no EMA model, nothing extra in the checkpoint, samples from the raw
    generator."""
    training = make_training(tmp_path, tiny_config(), **{"train.iterations": 1})
    assert training.generator_ema is None
    assert training.sampling_generator is training.generator
    assert "generator_ema" not in training.to_save


def test_ema_is_checkpointed_and_survives_a_resume(tmp_path, tiny_config, capsys):
    """The EMA weights after 4 iterations are the same whether the run went straight through or
    was resumed from its checkpoint at 2; they are saved apart from the raw weights."""
    out = tmp_path / "runs"
    config = tiny_config(iterations=4, checkpoint_every=2, ema=0.9)
    run_dir = ganzoo.train(config, out=out).run_dir
    last = run_dir / "checkpoints" / "checkpoint_4.pt"
    straight = load_checkpoint(last)
    assert any(
        not torch.equal(straight["generator_ema"][k], straight["generator"][k])
        for k in straight["generator"]
    )
    last.unlink()
    assert ganzoo.train(None, resume=run_dir).status == "finished"
    resumed = load_checkpoint(list_checkpoints(run_dir)[-1])
    assert resumed["trainer"]["iteration"] == 4
    for key, value in straight["generator_ema"].items():
        torch.testing.assert_close(resumed["generator_ema"][key], value, rtol=1e-5, atol=1e-6)


def test_ema_decay_out_of_range_is_refused(tiny_config, capsys):
    """train.ema must be a decay in (0, 1); 1.5 is refused naming the key."""
    assert main(["train", str(tiny_config()), "train.ema=1.5", "--dry-run"]) == 2
    assert "train.ema" in capsys.readouterr().err


def test_amp_on_the_cpu_is_refused_before_any_work(tmp_path, tiny_config, capsys):
    """train.amp=true without CUDA is a ConfigError saying how to fix it, and no run directory
    is created."""
    out = tmp_path / "runs"
    code = main(
        ["train", str(tiny_config()), "train.amp=true", "train.device=cpu", "--out", str(out)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "train.amp" in err and "CUDA" in err and "train.amp=false" in err
    assert not out.exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_amp_on_cuda_trains_with_a_grad_scaler(tmp_path, tiny_config):
    """On CUDA, train.amp=true trains in float16 autocast with a GradScaler whose state is in
    the checkpoint, and the losses stay finite."""
    out = tmp_path / "runs"
    config = tiny_config(iterations=4, checkpoint_every=4)
    overrides = ["train.amp=true", "train.device=cuda"]
    run_dir = ganzoo.train(config, overrides, out=out).run_dir
    checkpoint = load_checkpoint(list_checkpoints(run_dir)[-1])
    assert checkpoint["scaler"]["scale"] > 0
    assert checkpoint["trainer"]["iteration"] == 4
