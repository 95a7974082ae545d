"""The task suite's definitions and the image tasks' ganzoo.train adapter (with ganzoo.train
replaced by a fake that writes what a training run writes)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import ganzoo
from ganzoo.engine.result import RunResult
from ganzoo.engine.runlog import read_eval_curve
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.leaderboard.tasks import (
    CLASSIFIER_ACCURACY,
    TASKS,
    Cell,
    get_task,
    run_stacked_mnist,
    run_training,
)
from ganzoo.runs import CHECKPOINT_DIR, CONFIG_FILE, METRICS_FILE


def test_every_task_states_its_budget_and_is_scored_at_the_end():
    """Each task has a version, a budget, eval points that rise and end at the budget, and a
    ranking metric; the suite is the five tasks of issue 13, then issue 24's longer ones."""
    assert list(TASKS) == [
        "ring8",
        "grid25",
        "stacked_mnist",
        "mnist_dcgan",
        "fashion_single_class",
        "ring8_converged",
        "grid25_converged",
        "stacked_mnist_5k",
    ]
    for task in TASKS.values():
        assert task.version >= 1 and task.budget > 0 and task.cost
        assert list(task.eval_points) == sorted(set(task.eval_points))
        assert task.eval_points[-1] == task.budget and len(task.eval_points) >= 2
    assert TASKS["stacked_mnist"].settings["num_samples"] == 26000
    assert TASKS["ring8"].eval_points == (500, 1000, 2000)
    assert (
        TASKS["mnist_dcgan"].primary.name == "fid"
        and not TASKS["mnist_dcgan"].primary.higher_is_better
    )


def test_unknown_task_names_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'stacked_mnist'"):
        get_task("stacked-mnist")


def test_eval_curve_reads_the_last_record_per_iteration(tmp_path):
    """metrics.jsonl mixes training lines, evaluation records and a line cut short by a kill;
    a resumed run may repeat an iteration's evaluation: the last one counts."""
    lines = [
        {"iteration": 50, "loss_d": 1.0},
        {"iteration": 100, "eval": {"fid": 90.0, "coverage": 0.1}},
        {"iteration": 200, "eval": {"fid": 80.0, "coverage": 0.2}},
        {"iteration": 100, "eval": {"fid": 70.0, "coverage": 0.3}},
    ]
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"iteration": 3')
    assert read_eval_curve(path) == [
        {"iteration": 100, "fid": 70.0, "coverage": 0.3},
        {"iteration": 200, "fid": 80.0, "coverage": 0.2},
    ]


class FakeTrain:
    """Stands in for :func:`ganzoo.train`: records its arguments and writes a run directory
    with a checkpoint and one evaluation record per eval point; returns ``status``."""

    def __init__(self, status: str = "finished") -> None:
        self.calls: list[dict] = []
        self.status = status

    def __call__(self, config, overrides=(), *, out=None, resume=None, **kwargs):
        self.calls.append({"config": config, "overrides": list(overrides), "resume": resume})
        if resume is not None:
            run_dir = Path(resume)
        else:
            run_dir = Path(out) / config["name"] / "20260101-000000"
            (run_dir / CHECKPOINT_DIR).mkdir(parents=True)
            (run_dir / CONFIG_FILE).write_text("seed: 0\n")
            (run_dir / CHECKPOINT_DIR / "checkpoint_450.pt").write_bytes(b"")
        with (run_dir / METRICS_FILE).open("a") as f:
            for i, fid in ((450, 120.0), (900, 60.0)):
                f.write(json.dumps({"iteration": i, "eval": {"fid": fid, "kid_mean": 0.1}}) + "\n")
        detail = "" if self.status == "finished" else "a NaN loss at iteration 12"
        return RunResult(run_dir, self.status, 900, {}, detail)


def test_training_task_passes_the_cell_and_resumes_a_left_run(tmp_path, monkeypatch):
    """The cell's activation (both networks), kwargs, seed and budget reach ganzoo.train as
    overrides, with an evaluation every half budget; a second call finds the run the first
    left (a checkpoint in it) and resumes it instead of starting over."""
    fake = FakeTrain()
    monkeypatch.setattr(ganzoo, "train", fake, raising=False)
    task = TASKS["mnist_dcgan"]
    cell = Cell("elu", {"alpha": 0.5}, "mnist_dcgan", 2)
    result = run_training(task, cell, tmp_path)
    first = fake.calls[0]
    for override in (
        "seed=2",
        "train.iterations=900",
        "eval.every=450",
        "generator.activation=elu",
        "discriminator.activation=elu",
        'generator.activation_kwargs={"alpha": 0.5}',
    ):
        assert override in first["overrides"]
    assert [p["iteration"] for p in result["curve"]] == [450, 900]
    assert first["config"]["data"]["name"] == "mnist5k"
    assert first["config"]["eval"]["suite"] == "smoke"
    run_training(task, cell, tmp_path)
    assert fake.calls[1]["resume"] == Path(result["run_dir"])


def test_a_failed_training_run_raises_with_its_message(tmp_path, monkeypatch):
    """A run that stops (a NaN loss) becomes an error naming the status and the reason."""
    monkeypatch.setattr(ganzoo, "train", FakeTrain("failed"), raising=False)
    with pytest.raises(GanzooError, match="failed: a NaN loss at iteration 12"):
        run_training(TASKS["fashion_single_class"], Cell("relu", {}, "x", 0), tmp_path)


def test_an_interrupted_training_run_is_not_a_failed_cell(tmp_path, monkeypatch):
    """Ctrl-C reaches the training run too (status interrupted, with its checkpoint): the cell
    is interrupted, not failed, so nothing is stored and the next run resumes it."""
    monkeypatch.setattr(ganzoo, "train", FakeTrain("interrupted"), raising=False)
    with pytest.raises(KeyboardInterrupt):
        run_training(TASKS["mnist_dcgan"], Cell("relu", {}, "x", 0), tmp_path)


def test_converged_mixture_tasks_have_the_measured_budgets():
    """Issue 24: ring8 and grid25 at the budgets measured in docs/results/mixtures_budget.md
    (where LeakyReLU has most samples high-quality), scored at a quarter, half and all of the
    budget; the short tasks keep their budget, settings and version, so their stored results
    stay valid."""
    ring, grid = TASKS["ring8_converged"], TASKS["grid25_converged"]
    assert (ring.budget, ring.eval_points) == (20_000, (5_000, 10_000, 20_000))
    assert ring.settings == {"batch_size": 100, "lr": 1e-4, "hidden_dim": 128, "depth": 2}
    assert (grid.budget, grid.eval_points) == (40_000, (10_000, 20_000, 40_000))
    assert grid.settings == {"batch_size": 128, "lr": 1e-3, "hidden_dim": 128, "depth": 2}
    for short in (TASKS["ring8"], TASKS["grid25"]):
        assert (short.version, short.budget, short.eval_points) == (1, 2000, (500, 1000, 2000))
        assert short.settings == {"batch_size": 128, "lr": 1e-3, "hidden_dim": 128, "depth": 2}
    assert ring.primary.name == grid.primary.name == "modes_covered"


@pytest.mark.parametrize(("name", "modes"), [("ring8_converged", 8), ("grid25_converged", 25)])
def test_converged_mixture_tasks_train_on_their_mixture(tmp_path, name, modes):
    """A converged task is named apart from its dataset: a real run (cut to 20 updates) trains
    and scores on ring8 / grid25 (8 / 25 modes) with the task's settings, at its eval points."""
    task = dataclasses.replace(TASKS[name], budget=20, eval_points=(10, 20))
    result = task.run(task, Cell("leaky_relu", {}, name, 0), tmp_path)
    from ganzoo.leaderboard.mode_collapse import MixtureSettings, run_mixture_benchmark

    # the same numbers as the mixture run with the task's settings (lr, batch) on its dataset
    settings = MixtureSettings(**{**TASKS[name].settings, "iterations": 20})
    mixture = name.removesuffix("_converged")
    expected = run_mixture_benchmark(mixture, "leaky_relu", 0, settings, eval_at=[10, 20])
    assert result["curve"] == expected["curve"]
    assert [p["iteration"] for p in result["curve"]] == [10, 20]
    assert {p["num_modes"] for p in result["curve"]} == {modes}


def test_stacked_mnist_at_5000_updates_is_scored_at_1000_and_at_its_end():
    """Issue 24: a Stacked MNIST task five times longer than stacked_mnist, scored at 1,000
    (stacked_mnist's budget, for comparison), 2,500 and 5,000 updates, counted on 26,000
    samples like the short task, which keeps its budget and version."""
    short, long = TASKS["stacked_mnist"], TASKS["stacked_mnist_5k"]
    assert (short.budget, short.version) == (1000, 1)
    assert long.budget == 5000 and long.eval_points == (1000, 2500, 5000)
    assert long.settings == short.settings and long.primary.name == "modes_covered"
    assert long.fingerprint() != short.fingerprint()


def test_stacked_mnist_records_carry_the_classifiers_held_out_accuracy(tmp_path, monkeypatch):
    """The classifier the modes are counted with is the one the cell passes to the benchmark,
    and its held-out accuracy is written into every curve point (the stored record), beside
    the mode count it qualifies; the task's budget and eval points reach the benchmark."""
    from ganzoo.leaderboard import mode_collapse as stacked_mnist

    def classify(channel):
        raise AssertionError("the fake benchmark never classifies")

    seen = {}

    def fake_benchmark(
        activation, seed, *, settings, classify, activation_kwargs, eval_at, threads=1
    ):
        seen.update(activation=activation, seed=seed, iterations=settings.iterations)
        seen.update(classify=classify, eval_at=eval_at)
        curve = [{"iteration": i, "modes_covered": i // 10, "reverse_kl": 1.0} for i in eval_at]
        return {"curve": curve, "modes_covered": curve[-1]["modes_covered"]}

    monkeypatch.setattr(stacked_mnist, "digit_classifier", lambda: (classify, 0.931))
    monkeypatch.setattr(stacked_mnist, "run_stacked_mnist_benchmark", fake_benchmark)
    task = TASKS["stacked_mnist_5k"]
    result = run_stacked_mnist(task, Cell("elu", {}, task.name, 3), tmp_path)
    assert seen == {
        "activation": "elu",
        "seed": 3,
        "iterations": 5000,
        "classify": classify,
        "eval_at": [1000, 2500, 5000],
    }
    assert [p[CLASSIFIER_ACCURACY] for p in result["curve"]] == [0.931] * 3
    assert [p["modes_covered"] for p in result["curve"]] == [100, 250, 500]
