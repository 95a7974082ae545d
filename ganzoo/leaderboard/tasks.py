"""The leaderboard's fixed, versioned suite of tasks: what each trains, for how long, where it
is scored and which metric ranks it. Change a task's numbers, bump its ``version`` (part of
every stored key). docs/experiments.md tells how the budgets were sized."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from ganzoo.engine.runlog import read_eval_curve
from ganzoo.errors import ConfigError
from ganzoo.experiments.runner import require_finished
from ganzoo.runs import CONFIG_FILE, METRICS_FILE, is_run_dir, list_checkpoints


@dataclass(frozen=True)
class Metric:
    """A score a task reports, by its result key in the metric registry (plugins included);
    its direction, which orders the ranking, is the registry's (``evaluation.metric_direction``)."""

    name: str
    label: str

    @property
    def higher_is_better(self) -> bool:
        from evaluation import metric_direction

        return metric_direction(self.name) == "higher"


@dataclass(frozen=True)
class Cell:
    """One unit of work: an activation with its keyword arguments, a task, a seed."""

    activation: str
    kwargs: Mapping[str, Any]
    task: str
    seed: int
    origin: str = "built-in"  # "built-in" or the plugin's "<distribution> <version>"

    def label(self) -> str:
        return activation_label(self.activation, self.kwargs)


def activation_label(activation: str, kwargs: Mapping[str, Any]) -> str:
    """``elu`` or ``elu(alpha=0.5)``: how an activation with its kwargs is named in tables."""
    if not kwargs:
        return activation
    inner = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(kwargs.items()))
    return f"{activation}({inner})"


@dataclass(frozen=True)
class Task:
    """A leaderboard task. ``run(task, cell, work_dir)`` trains one cell and returns at least
    ``{"curve": [{"iteration": i, <metric>: value, ...}, ...]}``, one entry per eval point;
    ``work_dir`` is the cell's own folder in the store (for tasks that write files)."""

    name: str
    version: int
    description: str
    budget: int  # generator updates
    eval_points: tuple[int, ...]  # generator updates at which the run is scored; last = budget
    metrics: tuple[Metric, ...]  # the first ranks the task
    run: Callable[[Task, Cell, Path], Mapping[str, Any]]
    settings: Mapping[str, Any] = field(default_factory=dict)
    cost: str = ""  # measured cost of one cell, for people

    @property
    def primary(self) -> Metric:
        return self.metrics[0]

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this task's results besides the activation and seed."""
        return {
            "task": self.name,
            "task_version": self.version,
            "budget": self.budget,
            "eval_points": list(self.eval_points),
            "settings": dict(self.settings),
        }


def points(budget: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Generator-update counts at the given fractions of ``budget``."""
    return tuple(max(1, round(budget * f)) for f in fractions)


def run_mixture(
    task: Task, cell: Cell, work_dir: Path, mixture: str | None = None
) -> Mapping[str, Any]:
    """ring8 / grid25: the mlp GAN of :mod:`~ganzoo.leaderboard.mode_collapse`, scored at each
    eval point; ``mixture`` names the dataset when it is not the task's name (ring8_converged)."""
    from ganzoo.leaderboard import mode_collapse as mc

    options = _benchmark_options(task, cell, mc.MixtureSettings)
    return mc.run_mixture_benchmark(mixture or task.name, cell.activation, **options)


CLASSIFIER_ACCURACY = "classifier_accuracy"


def run_stacked_mnist(task: Task, cell: Cell, work_dir: Path) -> Mapping[str, Any]:
    """Stacked MNIST: the small DCGAN of :mod:`~ganzoo.leaderboard.mode_collapse`, modes and KL
    counted at each eval point; each point also carries the digit classifier's held-out accuracy
    (``classifier_accuracy``), so the stored records say how far the mode counts can be trusted."""
    from ganzoo.leaderboard import mode_collapse as mc

    classify, accuracy = mc.digit_classifier()
    options = _benchmark_options(task, cell, mc.StackedSettings)
    result = mc.run_stacked_mnist_benchmark(cell.activation, classify=classify, **options)
    curve = [{**point, CLASSIFIER_ACCURACY: accuracy} for point in result.get("curve", [])]
    return {**result, "curve": curve}


def _benchmark_options(task: Task, cell: Cell, settings_type: type) -> dict[str, Any]:
    settings = settings_type(**{**task.settings, "iterations": task.budget})
    kwargs = dict(cell.kwargs) or None
    eval_at = list(task.eval_points)
    return dict(seed=cell.seed, settings=settings, activation_kwargs=kwargs, eval_at=eval_at)


# -- image tasks: a short training run through ganzoo.train, scored by its periodic evaluation --


def run_training(task: Task, cell: Cell, work_dir: Path) -> Mapping[str, Any]:
    """Train through :func:`ganzoo.train` in ``work_dir/run`` (in the cell's worker process);
    the curve is the periodic evaluation's records in its metrics file. A run left by an
    interrupted leaderboard is resumed from its last checkpoint rather than started again."""
    import ganzoo

    root = work_dir / "run"
    existing = sorted(p.parent for p in root.glob(f"*/*/{CONFIG_FILE}") if is_run_dir(p.parent))
    if existing and list_checkpoints(existing[-1]):
        result = ganzoo.train(None, resume=existing[-1], progress=False)
    else:
        config = {**task.settings["config"], "name": "leaderboard"}
        result = ganzoo.train(config, training_overrides(task, cell), out=root, progress=False)
    require_finished(result)  # an interrupted run saved a checkpoint and resumes next time
    curve = read_eval_curve(Path(result.run_dir) / METRICS_FILE)
    return {"curve": curve, "run_dir": str(result.run_dir)}


def training_overrides(task: Task, cell: Cell) -> list[str]:
    """The ``key=value`` overrides putting the cell's activation, seed and budget in the config."""
    kwargs = json.dumps(dict(cell.kwargs), sort_keys=True)
    return [
        f"seed={cell.seed}",
        f"train.iterations={task.budget}",
        f"eval.every={task.eval_points[0]}",
        f"generator.activation={cell.activation}",
        f"discriminator.activation={cell.activation}",
        f"generator.activation_kwargs={kwargs}",
        f"discriminator.activation_kwargs={kwargs}",
    ]


# -- the suite ---------------------------------------------------------------------------------

MODES = Metric("modes_covered", "modes covered")
MIXTURE_METRICS = (
    MODES,
    Metric("high_quality_fraction", "high-quality share"),
    Metric("reverse_kl", "reverse KL"),
)
STACKED_METRICS = (MODES, Metric("reverse_kl", "KL to uniform"))
IMAGE_METRICS = (
    Metric("fid", "FID (smoke, 200 samples)"),
    Metric("kid_mean", "KID"),
    Metric("coverage", "coverage"),
)
QUARTERS = (0.25, 0.5, 1.0)
# The image tasks are scored at half and all of their budget only: one smoke evaluation (200
# Inception passes) costs about 45 s of one core, more than the training it scores.
HALVES = (0.5, 1.0)

SHORT_MIXTURE = {"batch_size": 128, "lr": 1e-3, "hidden_dim": 128, "depth": 2}
# ring8 with PacGAN's learning rate and batch (1e-4, 100) on the same networks: LeakyReLU(0.2)
# covers every mode with most samples high-quality; at 1e-3 it oscillates between 14% and 62%
# and loses modes. On grid25, 1e-4 is too slow and 1e-3 converges (docs/results/mixtures_budget.md).
CONVERGED_RING = {"batch_size": 100, "lr": 1e-4, "hidden_dim": 128, "depth": 2}


def _mixture_task(
    name: str,
    description: str,
    *,
    budget: int = 2000,
    settings: Mapping[str, Any] = SHORT_MIXTURE,
    cost: str = "about 8 s of one core per cell (PAU: 17 s)",
    mixture: str | None = None,
    version: int = 1,
) -> Task:
    """A mixture task; ``mixture``: the dataset, when the task's name is not it."""
    run = partial(run_mixture, mixture=mixture) if mixture else run_mixture
    eval_points = points(budget, QUARTERS)
    return Task(
        name, version, description, budget, eval_points, MIXTURE_METRICS, run, dict(settings), cost
    )


def _image_task(
    name: str,
    description: str,
    *,
    data: dict[str, Any],
    batch_size: int,
    budget: int,
    cost: str,
    version: int = 1,
) -> Task:
    """A short width-16 DCGAN run through ``ganzoo.train``, scored by the smoke suite at half
    and all of its budget; it checkpoints at every evaluation (so an interrupted cell resumes
    from there) and draws one sample grid at the end."""
    config = {
        "architecture": "dcgan",
        "data": data,
        "train": {
            "batch_size": batch_size,
            "lr_g": 0.0002,
            "lr_d": 0.0002,
            "beta1": 0.5,
            "log_every": 100,
            "sample_every": budget,
            "checkpoint_every": budget // 2,
            "keep_checkpoints": 1,
            "progress": False,
        },
        "generator": {"latent_dim": 64, "width": 16},
        "discriminator": {"width": 16},
        "eval": {"suite": "smoke"},
    }
    eval_points, settings = points(budget, HALVES), {"config": config}
    return Task(
        name, version, description, budget, eval_points, IMAGE_METRICS, run_training, settings, cost
    )


_STACKED_MNIST = Task(
    name="stacked_mnist",
    version=1,
    description="DCGAN (width 16) on Stacked MNIST from mnist5k: modes of 1,000 and KL, "
    "counted on 26,000 samples (PacGAN, VEEGAN)",
    budget=1000,
    eval_points=points(1000, QUARTERS),
    metrics=STACKED_METRICS,
    run=run_stacked_mnist,
    settings={"batch_size": 64, "width": 16, "num_samples": 26000},
    cost="about 90 s of one core per cell (training 47 s, 14 s per 26,000-sample count)",
)
_SUITE = [
    _mixture_task("ring8", "mlp GAN on 8 Gaussians in a ring (VEEGAN, PacGAN), 2,500 samples"),
    _mixture_task("grid25", "mlp GAN on a 5x5 grid of 25 Gaussians (PacGAN), 2,500 samples"),
    _STACKED_MNIST,
    _image_task(
        "mnist_dcgan",
        "DCGAN (width 16) on the 5,000 mnist5k digits, batch 64; FID/KID/coverage of the "
        "smoke suite (200 vs 200 images)",
        data={"name": "mnist5k", "image_size": 28},
        batch_size=64,
        budget=900,
        cost="about 150 s of one core per cell (training 51 s, 45 s per evaluation)",
    ),
    _image_task(
        "fashion_single_class",
        "DCGAN (width 16) on 5,000 Fashion-MNIST sneakers, batch 32 (the offline stand-in "
        "for the PSF paper's 5,000 CIFAR-10 cars); FID/KID/coverage of the smoke suite",
        data={"name": "fashion_mnist", "classes": ["Sneaker"], "limit": 5000, "image_size": 28},
        batch_size=32,
        budget=900,
        cost="about 130 s of one core per cell (training about 30 s, 45 s per evaluation)",
    ),
    # issue 24: the mixtures at convergence and Stacked MNIST at 5,000 updates
    _mixture_task(
        "ring8_converged",
        "ring8 trained to convergence: PacGAN's learning rate and batch (1e-4, 100) for "
        "20,000 updates, where LeakyReLU covers 8 of 8 modes with 72-75% of its samples "
        "high-quality (docs/results/mixtures_budget.md)",
        budget=20_000,
        settings=CONVERGED_RING,
        mixture="ring8",
        cost="about 30-40 s of one core per cell with LeakyReLU (1.5-2 ms per update)",
    ),
    _mixture_task(
        "grid25_converged",
        "grid25 trained to convergence: 40,000 updates at today's settings (1e-3, 128), "
        "where LeakyReLU has 67-76% of its samples high-quality (PacGAN's 1e-4 reaches "
        "only 26-34% by 50,000; docs/results/mixtures_budget.md)",
        budget=40_000,
        mixture="grid25",
        cost="about 75-80 s of one core per cell with LeakyReLU (1.9 ms per update)",
    ),
    replace(
        _STACKED_MNIST,
        name="stacked_mnist_5k",
        description="stacked_mnist trained five times longer (5,000 updates), scored at "
        "1,000, 2,500 and 5,000: where the runs end, not only how fast modes are found",
        budget=5000,
        eval_points=(1000, 2500, 5000),
        cost="about 280 s of one core per cell (estimated from stacked_mnist: 47 s of training "
        "per 1,000 updates, 14 s per count)",
    ),
]
TASKS: dict[str, Task] = {task.name: task for task in _SUITE}


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name is a ConfigError naming the closest one."""
    if name in TASKS:
        return TASKS[name]
    close = difflib.get_close_matches(name, list(TASKS), n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown leaderboard task {name!r}.{hint} Tasks: {', '.join(TASKS)}.")
