"""``ganzoo bench mode-collapse`` on the grid runner: its outputs, its store reused on a rerun,
the same numbers as the bench before it, and bad input refused before any work."""

import json
import shutil
from pathlib import Path

import pytest

from ganzoo.cli import main
from ganzoo.experiments import RecordStore
from ganzoo.leaderboard import mode_collapse

ARGS = ["bench", "mode-collapse", "--task", "grid25", "--iterations", "5", "--batch-size", "16"]
# Written by the bench before it ran on the grid (commit 993fa26, one thread): ring8,
# leaky_relu and elu, seeds 0 and 1, --iterations 150 --batch-size 32.
OLD_RUNS = Path(__file__).parent / "data" / "runs_before_grid.jsonl"
OLD_ARGS = ["bench", "mode-collapse", "--task", "ring8", "--activations", "leaky_relu,elu"]
OLD_ARGS += ["--seeds", "2", "--iterations", "150", "--batch-size", "32"]

pytestmark = pytest.mark.usefixtures("one_thread")


def stored(out: Path) -> dict[tuple[str, int], dict]:
    """The bench's records in OUT/store by (activation, seed)."""
    records = RecordStore(out / "store").records()
    return {(r["key"]["activation"], r["key"]["seed"]): r for r in records}


def test_bench_writes_records_summary_csv_and_markdown_and_prints_the_table(tmp_path, capsys):
    """Two activations x two seeds: 4 records in the store, a summary with both activations,
    the table printed with the output directory as the last line."""
    out = tmp_path / "bench"
    code = main([*ARGS, "--activations", "leaky_relu,elu", "--seeds", "2", "--out", str(out)])
    assert code == 0
    records = stored(out)
    assert sorted(records) == [("elu", 0), ("elu", 1), ("leaky_relu", 0), ("leaky_relu", 1)]
    assert all(r["status"] == "ok" and r["final"]["num_modes"] == 25 for r in records.values())
    md = (out / "summary.md").read_text()
    assert "| leaky_relu |" in md and "| elu |" in md and "--iterations 5" in md
    header = (out / "summary.csv").read_text().splitlines()[0]
    assert header.startswith("activation,seeds_ok,seeds_failed,rank,modes_covered_mean")
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == str(out) and any(line.split()[1:2] == ["elu"] for line in printed)


def test_activations_take_kwargs_as_in_the_leaderboard(tmp_path):
    """``elu(alpha=0.5)`` reaches the runs: its records carry the kwargs and differ from plain
    elu's (another alpha, other numbers), and the table names it with them."""
    out = tmp_path / "bench"
    assert (
        main([*ARGS, "--activations", "elu,elu(alpha=0.5)", "--seeds", "1", "--out", str(out)]) == 0
    )
    records = RecordStore(out / "store").records()
    by_kwargs = {json.dumps(r["key"]["kwargs"]): r["final"] for r in records}
    assert sorted(by_kwargs) == ['{"alpha": 0.5}', "{}"]
    assert by_kwargs["{}"]["reverse_kl"] != by_kwargs['{"alpha": 0.5}']["reverse_kl"]
    assert "| elu(alpha=0.5) |" in (out / "summary.md").read_text()


def count_runs(monkeypatch) -> list[tuple[str, int]]:
    """Record (activation, seed) of every mixture run trained from now on."""
    calls = []
    real = mode_collapse.run_mixture_benchmark

    def counting(task, activation, seed, *args, **kwargs):
        calls.append((activation, seed))
        return real(task, activation, seed, *args, **kwargs)

    monkeypatch.setattr(mode_collapse, "run_mixture_benchmark", counting)
    return calls


def test_rerun_skips_finished_runs_and_only_trains_new_seeds(tmp_path, monkeypatch):
    """After 1 seed is done, asking for 2 seeds trains only seed 1; asking again trains none;
    other settings (--loss hinge) are other cells and train again."""
    out = tmp_path / "bench"
    assert main([*ARGS, "--activations", "elu", "--seeds", "1", "--out", str(out)]) == 0
    calls = count_runs(monkeypatch)
    assert main([*ARGS, "--activations", "elu", "--seeds", "2", "--out", str(out)]) == 0
    assert calls == [("elu", 1)]
    assert main([*ARGS, "--activations", "elu", "--seeds", "2", "--out", str(out)]) == 0
    assert calls == [("elu", 1)]
    assert len(stored(out)) == 2
    hinge = [*ARGS, "--activations", "elu", "--seeds", "1", "--loss", "hinge"]
    assert main([*hinge, "--out", str(out)]) == 0
    assert calls == [("elu", 1), ("elu", 0)]


def test_the_bench_gives_the_numbers_of_the_bench_before_the_grid(tmp_path):
    """Trained afresh on the grid, every run has the very metrics the old bench wrote to its
    runs.jsonl for the same task, activation, seed and settings (bit-identical floats)."""
    out = tmp_path / "bench"
    assert main([*OLD_ARGS, "--out", str(out)]) == 0
    records = stored(out)
    for line in OLD_RUNS.read_text().splitlines():
        old = json.loads(line)
        final = records[(old["activation"], old["seed"])]["final"]
        assert "imported_from" not in records[(old["activation"], old["seed"])]
        for metric in ("mode_counts", "modes_covered", "high_quality_fraction", "reverse_kl"):
            assert final[metric] == old[metric], (old["activation"], old["seed"], metric)


def test_old_runs_jsonl_is_imported_when_its_settings_match(tmp_path, monkeypatch, capsys):
    """The old bench's runs.jsonl in OUT: its four runs become records (nothing trains) and the
    table shows their means; the file is left as it was."""
    out = tmp_path / "bench"
    out.mkdir()
    shutil.copy(OLD_RUNS, out / "runs.jsonl")
    calls = count_runs(monkeypatch)
    assert main([*OLD_ARGS, "--out", str(out)]) == 0
    assert calls == []
    records = stored(out)
    assert len(records) == 4 and all("imported_from" in r for r in records.values())
    assert records[("elu", 1)]["final"]["mode_counts"] == [0, 1, 2, 1, 0, 4, 2, 1]  # line 4
    table = capsys.readouterr().out
    assert "leaky_relu  2      3 ± 0" in table  # both old seeds covered 3 modes
    assert (out / "runs.jsonl").read_text() == OLD_RUNS.read_text()


def test_old_runs_with_other_settings_are_not_imported(tmp_path, monkeypatch):
    """Other iterations than the old file's: its runs are not these cells, which train."""
    out = tmp_path / "bench"
    out.mkdir()
    shutil.copy(OLD_RUNS, out / "runs.jsonl")
    calls = count_runs(monkeypatch)
    other = [a if a != "150" else "20" for a in OLD_ARGS]
    assert main([*other, "--activations", "elu", "--out", str(out)]) == 0
    assert sorted(calls) == [("elu", 0), ("elu", 1)]
    assert not any("imported_from" in r for r in stored(out).values())


def test_an_unreadable_old_runs_file_is_one_line_saying_how_to_migrate(tmp_path, capsys):
    """A line in the middle that is not a run stops the bench before it trains, naming the line
    and what to do; a last line cut short (a killed run) is only skipped."""
    out = tmp_path / "bench"
    out.mkdir()
    lines = OLD_RUNS.read_text().splitlines()
    (out / "runs.jsonl").write_text("\n".join([lines[0], "not json", lines[1]]) + "\n")
    assert main([*OLD_ARGS, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "runs.jsonl line 2 is not a run of ganzoo bench" in err and "move the file" in err
    assert "Traceback" not in err and not stored(out)
    (out / "runs.jsonl").write_text(lines[0] + "\n" + lines[1][:40])
    assert main([*OLD_ARGS, "--activations", "leaky_relu", "--seeds", "1", "--out", str(out)]) == 0
    assert "imported_from" in stored(out)[("leaky_relu", 0)]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--activations", "leaky_relu,lekay_relu"], "lekay_relu"),
        (["--task", "ring9"], "ring8, grid25, stacked_mnist"),
        (["--iterations", "0"], "--iterations"),
        (["--seeds", "0"], "--seeds"),
        (["--jobs", "0"], "--jobs"),
        (["--executor", "slurm", "--cells-per-job", "0"], "--cells-per-job must be at least 1"),
        (["--architecture", "resnet"], "does not fit grid25"),
        (["--loss", "hingee"], "hinge"),
    ],
)
def test_bad_input_is_a_one_line_error_before_any_work(tmp_path, capsys, extra, message):
    """An unknown activation, task or loss, a ResNet on 2-D points, zero seeds or jobs, or a bad
    executor option exits 2 with a message naming it, and nothing is trained or written."""
    out = tmp_path / "bench"
    assert main([*ARGS, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert "error" in err and message in err and "Traceback" not in err
    assert not out.exists()


def test_stacked_mnist_on_the_resnet_with_hinge_and_two_critic_updates(tmp_path, monkeypatch):
    """--architecture resnet --loss hinge --n-critic 2 reach the Stacked MNIST run's settings
    (the run itself is replaced by a recorder: the real one needs the digit classifier)."""
    seen = []

    def fake(activation, seed, settings, **kwargs):
        seen.append(settings)
        return {"curve": [{"iteration": settings.iterations, "modes_covered": 1, "reverse_kl": 1}]}

    monkeypatch.setattr(mode_collapse, "run_stacked_mnist_benchmark", fake)
    monkeypatch.setattr(mode_collapse, "digit_classifier", lambda: (None, 1.0))
    args = ["bench", "mode-collapse", "--task", "stacked_mnist", "--activations", "elu"]
    args += ["--seeds", "1", "--architecture", "resnet", "--loss", "hinge", "--n-critic", "2"]
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    (settings,) = seen
    assert (settings.architecture, settings.loss, settings.n_critic) == ("resnet", "hinge", 2)
    assert (settings.iterations, settings.num_samples) == (1000, 26000)
