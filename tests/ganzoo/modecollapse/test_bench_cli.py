import json

import pytest

from ganzoo.cli import main
from ganzoo.modecollapse import runner

ARGS = ["bench", "mode-collapse", "--task", "grid25", "--iterations", "5", "--batch-size", "16"]


def test_bench_writes_runs_summary_csv_and_markdown_and_prints_the_table(tmp_path, capsys):
    """Two activations x two seeds: 4 JSON lines, a summary with both activations, the table
    printed with the output directory as the last line."""
    out = tmp_path / "bench"
    code = main([*ARGS, "--activations", "leaky_relu,elu", "--seeds", "2", "--out", str(out)])
    assert code == 0
    lines = (out / "runs.jsonl").read_text().splitlines()
    assert sorted((json.loads(x)["activation"], json.loads(x)["seed"]) for x in lines) == [
        ("elu", 0),
        ("elu", 1),
        ("leaky_relu", 0),
        ("leaky_relu", 1),
    ]
    md = (out / "summary.md").read_text()
    assert "| leaky_relu | 2 |" in md and "| elu | 2 |" in md
    assert (out / "summary.csv").read_text().startswith("activation,runs,modes_covered_mean")
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == str(out) and any(line.startswith("elu") for line in printed)


def test_rerun_skips_finished_runs_and_only_trains_new_seeds(tmp_path, monkeypatch):
    """After 1 seed is done, asking for 2 seeds trains only seed 1; asking again trains none."""
    out = tmp_path / "bench"
    assert main([*ARGS, "--activations", "elu", "--seeds", "1", "--out", str(out)]) == 0
    calls = []
    real = runner.run_mixture_benchmark

    def counting(task, activation, seed, *args, **kwargs):
        calls.append(seed)
        return real(task, activation, seed, *args, **kwargs)

    monkeypatch.setattr("ganzoo.cli.bench.run_mixture_benchmark", counting)
    assert main([*ARGS, "--activations", "elu", "--seeds", "2", "--out", str(out)]) == 0
    assert calls == [1]
    assert main([*ARGS, "--activations", "elu", "--seeds", "2", "--out", str(out)]) == 0
    assert calls == [1]
    assert len((out / "runs.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--activations", "leaky_relu,lekay_relu"], "lekay_relu"),
        (["--task", "ring9"], "ring8, grid25, stacked_mnist"),
        (["--iterations", "0"], "--iterations"),
        (["--seeds", "0"], "--seeds"),
    ],
)
def test_bad_input_is_a_one_line_error_before_any_work(tmp_path, capsys, extra, message):
    """An unknown activation or task (or zero seeds) exits 2 with a message naming it, and
    nothing is trained or written."""
    out = tmp_path / "bench"
    assert main([*ARGS, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert "error" in err and message in err and "Traceback" not in err
    assert not (out / "runs.jsonl").exists()


def test_stacked_mnist_on_the_resnet_with_hinge_and_two_critic_updates(tmp_path, monkeypatch):
    """--architecture resnet --loss hinge --n-critic 2 reach the Stacked MNIST run's settings
    (the run itself is replaced by a recorder: the real one needs the digit classifier)."""
    from ganzoo.cli import bench as bench_cli

    seen = []

    def fake(activation, seed, settings, threads, classify):
        seen.append(settings)
        return {
            "task": "stacked_mnist",
            "activation": activation,
            "seed": seed,
            "settings": settings.as_dict(),
            "modes_covered": 1,
            "reverse_kl": 1.0,
        }

    monkeypatch.setattr(bench_cli, "run_stacked_mnist_benchmark", fake)
    monkeypatch.setattr(bench_cli, "digit_classifier", lambda: (None, 1.0))
    args = [
        "bench",
        "mode-collapse",
        "--task",
        "stacked_mnist",
        "--activations",
        "elu",
        "--seeds",
        "1",
        "--architecture",
        "resnet",
        "--loss",
        "hinge",
        "--n-critic",
        "2",
        "--out",
        str(tmp_path / "b"),
    ]
    assert main(args) == 0
    (settings,) = seen
    assert (settings.architecture, settings.loss, settings.n_critic) == ("resnet", "hinge", 2)


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--architecture", "resnet"], "does not fit grid25"), (["--loss", "hingee"], "hinge")],
)
def test_architecture_and_loss_are_checked_before_any_run(tmp_path, capsys, extra, message):
    """A ResNet on 2-D points, or an unknown loss: exit 2 with one line, nothing trained."""
    out = tmp_path / "b"
    assert main([*ARGS, "--activations", "elu", "--seeds", "1", "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err and not (out / "runs.jsonl").exists()
