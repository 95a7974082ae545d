"""Synthetic run directories for the report tests: config.yaml, metrics.jsonl, a sample PNG."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml


def _config(activation: str, seed: int, **extra) -> dict:
    kwargs = {"alpha_init": 0.0} if activation == "psf" else {"negative_slope": 0.2}
    config = {
        "name": f"{activation}_seed{seed}",
        "seed": seed,
        "architecture": "dcgan",
        "data": {"name": "mnist5k", "image_size": 28},
        "train": {"iterations": 30, "loss": "bce", "progress": False},
        "generator": {"activation": activation, "activation_kwargs": kwargs, "width": 8},
        "discriminator": {"activation": activation, "activation_kwargs": kwargs, "width": 8},
    }
    for key, value in extra.items():
        section, name = key.split(".")
        config[section][name] = value
    return config


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    """``make_run(activation, seed, final_loss_d=..., fids=[...], ...)`` writes a run directory
    whose last training line has avg_loss_d = final_loss_d and whose eval lines carry ``fids``
    at iterations 10, 20, 30."""

    def make(
        activation: str,
        seed: int,
        final_loss_d: float = 1.0,
        fids: list[float] | None = None,
        coverage: list[float] | None = None,
        collapse_at: int | None = None,
        root: Path | None = None,
        **config_extra,
    ) -> Path:
        run_dir = (root or tmp_path / "runs") / f"{activation}_seed{seed}" / "20260101-000000"
        for sub in ("checkpoints", "samples", "tb"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(
            yaml.safe_dump(_config(activation, seed, **config_extra))
        )
        lines = []
        for k, iteration in enumerate((10, 20, 30)):
            record = {
                "iteration": iteration,
                "epoch": 1 + iteration // 15,  # 10 -> 1, 20 -> 2, 30 -> 3
                "loss_d": 1.0 + k + seed,
                "loss_g": 2.0 - k,
                "avg_loss_d": final_loss_d if iteration == 30 else 9.0,
                "avg_loss_g": 1.5,
            }
            if activation == "psf":
                record["generator/blocks.0.act/alpha"] = 0.1 * k
            lines.append(record)
            if fids is not None:
                values = {"fid": fids[k], "kid_mean": fids[k] / 1000}
                if coverage is not None:
                    values["coverage"] = coverage[k]
                lines.append({"iteration": iteration, "epoch": 1 + iteration // 15, "eval": values})
        if collapse_at is not None:
            event = {
                "metric": "coverage",
                "iteration": collapse_at,
                "peak_value": 0.8,
                "value": 0.2,
                "peak_iteration": 10,
                "relative_drop": 0.75,
            }
            lines.append(
                {
                    "iteration": 30,
                    "collapse": {"collapsed": True, "iteration": collapse_at, "events": [event]},
                }
            )
        (run_dir / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        _write_png(run_dir / "samples" / "iter_0000030.png", seed)
        return run_dir

    return make


def _write_png(path: Path, seed: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = np.random.default_rng(seed).random((16, 16, 3))
    plt.imsave(path, image)
