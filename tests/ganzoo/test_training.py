"""``ganzoo.train``, the library entry point: what its RunResult says for each way a run ends,
that a resume continues the same directory, the config forms it takes, and that a run builds its
data once, with the evaluation's reference taken from that dataset."""

from __future__ import annotations

import functools
import os
import re
import signal
from pathlib import Path

import pytest
import torch
import yaml

import ganzoo
from ganzoo.config import load_config
from ganzoo.errors import ConfigError
from ganzoo.runs import CONFIG_FILE, list_checkpoints

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {
    "name": "tiny",
    "data": {"name": "mnist5k", "image_size": 28, "limit": 256},
    "train": {
        "batch_size": 32,
        "iterations": 4,
        "log_every": 1,
        "sample_every": 1000,
        "checkpoint_every": 2,
        "progress": False,
    },
    "generator": {"width": 8, "latent_dim": 16, "activation": "prelu"},
    "discriminator": {"width": 8, "activation": "prelu"},
}


def tiny(**train: object) -> dict:
    return {**TINY, "train": {**TINY["train"], **train}}


class FixedEvaluator:
    """Stands in for evaluation.Evaluator: remembers its reference, scores by call count."""

    references: list = []

    def __init__(self, suite, reference, **kwargs) -> None:
        FixedEvaluator.references.append((reference, kwargs.get("reference_labels")))
        self.suite = suite  # the trainer reads its headline (the best checkpoint's metric)
        self.calls = 0

    def evaluate(self, sample, **kwargs):
        self.calls += 1
        return {"fid": 100.0 - self.calls, "recall": 0.5, "protocol": {"suite": "fixed"}}


@pytest.fixture
def fixed_evaluator(monkeypatch):
    import evaluation

    FixedEvaluator.references = []
    monkeypatch.setattr(evaluation, "Evaluator", FixedEvaluator)
    return FixedEvaluator


def test_a_finished_run_reports_its_directory_iteration_and_no_metrics(tmp_path):
    """A new run returns status finished, the directory it wrote (under out/name/) and its last
    iteration; with no evaluation configured, metrics is empty."""
    result = ganzoo.train(tiny(), out=tmp_path / "runs")
    assert isinstance(result, ganzoo.RunResult)
    assert result.status == "finished" and result.ok and result.exit_code == 0
    assert result.iteration == 4 and result.metrics == {}
    assert result.run_dir.parent == tmp_path / "runs" / "tiny"
    assert (result.run_dir / CONFIG_FILE).is_file()
    assert [p.name for p in list_checkpoints(result.run_dir)][-1] == "checkpoint_4.pt"


def test_metrics_are_the_last_evaluation(tmp_path, fixed_evaluator):
    """With eval.every 2 over 4 iterations the evaluator runs at 2 and 4: the result holds the
    second call's values (fid 98), as metrics.jsonl's last evaluation does."""
    config = {**tiny(), "eval": {"every": 2}}
    result = ganzoo.train(config, out=tmp_path / "runs")
    assert result.metrics == {"fid": 98.0, "recall": 0.5}


def test_resume_continues_the_same_directory_then_has_nothing_to_do(tmp_path):
    """A resume with a longer train.iterations trains on in the same directory; a second one
    returns nothing_to_do and leaves config.yaml as the first resume wrote it."""
    first = ganzoo.train(tiny(), out=tmp_path / "runs")
    longer = ganzoo.train(None, ["train.iterations=6"], resume=first.run_dir)
    assert (longer.run_dir, longer.status, longer.iteration) == (first.run_dir, "finished", 6)
    recorded = (first.run_dir / CONFIG_FILE).read_text()
    assert "iterations: 6" in recorded
    again = ganzoo.train(None, resume=first.run_dir)
    assert (again.status, again.iteration, again.exit_code) == ("nothing_to_do", 6, 0)
    assert "nothing to do" in again.detail and again.ok
    assert (first.run_dir / CONFIG_FILE).read_text() == recorded


def test_a_shorter_resume_is_refused_and_keeps_the_record(tmp_path):
    """Resuming a 4-iteration run with train.iterations=2 (or an eval change beside it) is one
    ConfigError naming both numbers; config.yaml keeps its bytes."""
    first = ganzoo.train(tiny(), out=tmp_path / "runs")
    before = (first.run_dir / CONFIG_FILE).read_bytes()
    with pytest.raises(ConfigError, match=r"trained 4 iterations.*train.iterations=2 ends"):
        ganzoo.train(None, ["train.iterations=2", "eval.every=1"], resume=first.run_dir)
    assert (first.run_dir / CONFIG_FILE).read_bytes() == before


def test_a_signal_returns_interrupted_with_the_resume_hint(tmp_path, monkeypatch):
    """A SIGINT during iteration 3 ends the call with status interrupted at iteration 3, exit
    code 130 and the resume command in detail; no exception reaches the caller."""
    from ganzoo.engine import step as step_module

    original = step_module.GANStep.__call__

    def interrupted(self, engine, batch):
        if engine.state.iteration == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, engine, batch)

    monkeypatch.setattr(step_module.GANStep, "__call__", interrupted)
    result = ganzoo.train(tiny(iterations=50), out=tmp_path / "runs")
    assert (result.status, result.iteration, result.exit_code) == ("interrupted", 3, 130)
    assert f"--resume {result.run_dir}" in result.detail and not result.ok


def test_a_nan_loss_returns_failed_at_the_last_good_iteration(tmp_path, monkeypatch):
    """The loss turning NaN at iteration 3 gives status failed, iteration 2 (the last good
    one), exit code 2 and the NaN advice in detail."""
    from ganzoo.engine import step as step_module

    original = step_module.GANStep.__call__

    def poisoned(self, engine, batch):
        output = original(self, engine, batch)
        if engine.state.iteration == 3:
            output["loss_d"] = float("nan")
        return output

    monkeypatch.setattr(step_module.GANStep, "__call__", poisoned)
    result = ganzoo.train(tiny(), out=tmp_path / "runs")
    assert (result.status, result.iteration, result.exit_code) == ("failed", 2, 2)
    assert "iteration 3" in result.detail and "NaN" in result.detail


def test_the_three_config_forms_train_the_same_config(tmp_path):
    """A YAML path, a mapping and an ExperimentConfig (each with one override) write the same
    config.yaml; the override wins over the value given."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny(iterations=2)))
    overrides = ["train.iterations=1"]
    written = []
    for form in (path, tiny(iterations=2), load_config(path)):
        result = ganzoo.train(form, overrides, out=tmp_path / "runs")
        assert result.iteration == 1
        written.append(yaml.safe_load((result.run_dir / CONFIG_FILE).read_text()))
    assert written[0] == written[1] == written[2]


@pytest.mark.parametrize(
    ("config", "overrides", "resume", "words"),
    [
        (TINY, ["train.epochs=x"], None, "train.epochs"),
        (TINY, ["train.batchsize=3"], None, "unknown config key 'train.batchsize'"),
        (TINY, [], "somewhere", "give either a config or a run directory"),
        (None, [], None, "give a config"),
        (42, [], None, "not int"),
    ],
)
def test_bad_input_raises_before_anything_is_written(tmp_path, config, overrides, resume, words):
    """Bad config values, keys and argument combinations are one ConfigError; no run directory
    is created."""
    with pytest.raises(ConfigError, match=words):
        ganzoo.train(config, overrides, out=tmp_path / "runs", resume=resume)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("conditional", [False, True])
def test_a_run_builds_its_data_once_and_evaluates_against_it(
    tmp_path, monkeypatch, fixed_evaluator, conditional
):
    """One call to build_dataset per run (before: 3, and 4 for a conditional model), and the
    evaluation's reference is the class-balanced selection of that dataset that the separate
    load_images used to read (labels alongside for a conditional model)."""
    import ganzoo.data
    from ganzoo.data import load_images

    calls = []
    real = ganzoo.data.build_dataset

    def counted(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(ganzoo.data, "build_dataset", counted)
    config = {**tiny(iterations=2), "eval": {"every": 2}}  # smoke: 200 reference images
    if conditional:  # a conditional MLP (DCGAN has no class input)
        config["architecture"] = "mlp"
        config["generator"] = {"num_classes": 10, "latent_dim": 8, "hidden_dim": 16, "depth": 1}
        config["discriminator"] = {"num_classes": 10, "hidden_dim": 16, "depth": 1}
    result = ganzoo.train(config, out=tmp_path / "runs")
    assert result.status == "finished" and len(calls) == 1
    ((reference, labels),) = fixed_evaluator.references
    assert torch.equal(reference, load_images("mnist5k", n=200, image_size=28))
    if conditional:
        assert torch.equal(labels, real("mnist5k", limit=200).labels)
    else:
        assert labels is None


@pytest.fixture
def builds(monkeypatch):
    """Every construction of a DCGAN generator or discriminator and every loss built, in order."""
    import ganzoo.losses
    from ganzoo.architectures import get_architecture

    built = []
    architecture = get_architecture("dcgan")
    for cls in (architecture.generator, architecture.discriminator):
        original = cls.__init__

        @functools.wraps(original)  # the config checks read the constructor's signature
        def counted(self, *args, _original=original, _name=cls.__name__, **kwargs):
            built.append(_name)
            _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counted)
    real_loss = ganzoo.losses.get_loss

    def counted_loss(*args, **kwargs):
        built.append("loss")
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(ganzoo.losses, "get_loss", counted_loss)
    return built


def test_a_run_builds_its_loss_and_networks_once(tmp_path, builds):
    """One generator, one discriminator and one loss per run, new or resumed (before: each
    twice, once on the meta device by the config's validation)."""
    first = ganzoo.train(tiny(iterations=2), out=tmp_path / "runs")
    assert first.status == "finished"
    assert sorted(builds) == ["DCGANDiscriminator", "DCGANGenerator", "loss"]
    builds.clear()
    resumed = ganzoo.train(None, ["train.iterations=4"], resume=first.run_dir)
    assert resumed.status == "finished" and resumed.iteration == 4
    assert sorted(builds) == ["DCGANDiscriminator", "DCGANGenerator", "loss"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (
            ["generator.activation=nope"],
            "generator in the override 'generator.activation=nope'.*unknown activation 'nope'",
        ),
        (["train.loss=nope"], "the override 'train.loss=nope'"),
    ],
)
def test_a_bad_network_or_loss_is_refused_before_data_or_disk(
    tmp_path, monkeypatch, builds, overrides, words
):
    """A bad activation or loss is still one ConfigError naming the override, raised before
    the run reads its data or creates its directory."""
    import ganzoo.data

    def no_data(*args, **kwargs):
        raise AssertionError("the data were read before the config was refused")

    monkeypatch.setattr(ganzoo.data, "build_dataset", no_data)
    with pytest.raises(ConfigError, match=words):
        ganzoo.train(TINY, overrides, out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_a_bad_loss_in_the_file_is_blamed_on_the_file(tmp_path):
    """An unknown loss named in the YAML file is refused in one line that starts with the
    file, as when validation built the loss, and nothing is written."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(tiny(loss="nope")))
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: unknown loss 'nope'"):
        ganzoo.train(path, out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_library_import_is_lazy():
    """``import ganzoo`` does not import the trainer (``ganzoo --version`` stays quick); the
    entry points resolve on first use."""
    import subprocess
    import sys

    code = (
        "import sys, ganzoo; assert 'ganzoo.training' not in sys.modules; "
        "assert callable(ganzoo.train) and 'ganzoo.training' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_run_result_round_trips_through_json(tmp_path):
    """A spawned rank 0 hands its result back as JSON: every field survives."""
    result = ganzoo.RunResult(tmp_path / "r", "failed", 7, {"fid": 1.5}, "why", 2)
    assert ganzoo.RunResult.from_json(result.to_json()) == result
    assert isinstance(ganzoo.RunResult.from_json(result.to_json()).run_dir, Path)
