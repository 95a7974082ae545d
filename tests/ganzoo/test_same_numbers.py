"""The training core's refactor changed no result: the same config and seed give the numbers
the code before it gave (measured at commit bf76def, before GANStep took over the mixture
benchmark's own loop and the engine was split, on one thread)."""

from __future__ import annotations

import json

import pytest
import yaml

from ganzoo.cli import main
from ganzoo.modecollapse.runner import MixtureSettings, run_mixture_benchmark

# One thread: the numbers were measured on one, and another count sums in another order.
pytestmark = pytest.mark.usefixtures("one_thread")


def test_mixture_benchmark_gives_the_numbers_of_the_old_loop():
    """ring8, leaky_relu, seed 3, 60 iterations, 500 samples: losses and mode counts as before."""
    result = run_mixture_benchmark(
        "ring8", "leaky_relu", seed=3, settings=MixtureSettings(iterations=60, num_samples=500)
    )
    assert result["mode_counts"] == [0, 0, 1, 0, 4, 0, 0, 0]
    assert result["reverse_kl"] == pytest.approx(1.579039118141648, rel=1e-9)
    assert (result["final_loss_d"], result["final_loss_g"]) == pytest.approx(
        (1.2994556427001953, 0.8984956741333008), rel=1e-6
    )


def test_ganzoo_train_gives_the_losses_of_the_old_engine(tmp_path, capsys):
    """A tiny DCGAN (PSF generator, LeakyReLU discriminator) on mnist5k: the same six losses."""
    config = {
        "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
        "train": {"batch_size": 32, "iterations": 6, "log_every": 1, "progress": False},
        "generator": {"width": 8, "latent_dim": 16, "activation": "psf"},
        "discriminator": {"width": 8, "activation": "leaky_relu"},
    }
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["train", str(path), "--out", str(tmp_path / "runs")]) == 0
    (run_dir,) = (tmp_path / "runs" / "g").iterdir()
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    got = [value for r in lines for value in (r["loss_d"], r["loss_g"])]
    before = [
        (1.3906018733978271, 0.769017219543457),
        (1.3315834999084473, 0.7506532073020935),
        (1.3997821807861328, 0.7163636684417725),
        (1.319425344467163, 0.6989795565605164),
        (1.2955234050750732, 0.69204181432724),
        (1.2984161376953125, 0.6741594076156616),
    ]
    assert got == pytest.approx([value for pair in before for value in pair], rel=1e-5)
