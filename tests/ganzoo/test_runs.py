"""Run directories and checkpoints on disk: safe loading, corrupt files skipped, clear errors."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
import torch

from ganzoo.errors import CheckpointError
from ganzoo.runs import (
    atomic_write_text,
    create_run_dir,
    list_checkpoints,
    load_checkpoint,
    load_latest_checkpoint,
    planned_end,
    recorded_iteration,
    remove_partial_checkpoints,
    require_run_dir,
    write_progress,
)


def write_checkpoint(directory: Path, iteration: int) -> Path:
    """A minimal ganzoo-shaped checkpoint whose weight equals its iteration."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoint_{iteration}.pt"
    data = {
        "generator": {"w": torch.full((3,), float(iteration))},
        "config": {"seed": 0},
        "trainer": {"iteration": iteration},
    }
    torch.save(data, path)
    return path


class RunsShell:
    """Unpickling this object calls os.system: the classic malicious checkpoint."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoints_are_listed_by_iteration_not_by_name(tmp_path):
    """checkpoint_10 comes after checkpoint_9 (a string sort would put it first); other files
    in the folder (a temporary file left by a kill, best_fid.pt) are not checkpoints."""
    for iteration in (9, 10, 100):
        write_checkpoint(tmp_path / "checkpoints", iteration)
    (tmp_path / "checkpoints" / "tmpab12cd").write_bytes(b"partial")
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "checkpoint_9.pt",
        "checkpoint_10.pt",
        "checkpoint_100.pt",
    ]


def test_truncated_newest_checkpoint_is_reported_and_the_previous_used(tmp_path, caplog):
    """With the newest checkpoint cut in half, load_latest_checkpoint warns naming that file and
    returns the previous one, whose weights are the right ones."""
    write_checkpoint(tmp_path / "checkpoints", 4)
    newest = write_checkpoint(tmp_path / "checkpoints", 8)
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    with caplog.at_level(logging.WARNING):
        path, data = load_latest_checkpoint(tmp_path)
    assert path.name == "checkpoint_4.pt"
    assert float(data["generator"]["w"][0]) == 4.0
    assert "checkpoint_8.pt" in caplog.text and "truncated or corrupt" in caplog.text


def test_no_loadable_checkpoint_names_every_file(tmp_path):
    """When every checkpoint is damaged the error names each of them."""
    for iteration in (2, 4):
        write_checkpoint(tmp_path / "checkpoints", iteration).write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError) as error:
        load_latest_checkpoint(tmp_path)
    assert "checkpoint_2.pt" in str(error.value) and "checkpoint_4.pt" in str(error.value)


def test_a_pickle_carrying_code_is_refused_and_does_not_run(tmp_path):
    """A checkpoint whose unpickling would call os.system is refused with a message naming the
    function it carries, and the command never runs (its marker file is not created)."""
    marker = tmp_path / "code-ran"
    path = tmp_path / "checkpoint_1.pt"
    torch.save({"generator": RunsShell(marker), "config": {}}, path)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert "refused" in message and "system" in message and "could run code" in message
    assert not marker.exists()


def test_a_file_that_is_not_a_checkpoint(tmp_path):
    """A text file and a tensor-only file are both refused with what is wrong."""
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(text)
    bare = tmp_path / "bare.pt"
    torch.save({"weights": torch.zeros(2)}, bare)
    with pytest.raises(CheckpointError, match="not a ganzoo checkpoint"):
        load_checkpoint(bare)


def test_run_dir_under_a_regular_file_is_a_clear_error(tmp_path):
    """--out pointing below a file (unwritable even for root) gives a CheckpointError that
    names the place and suggests --out, not an OSError."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CheckpointError) as error:
        create_run_dir(blocker / "runs", "tiny")
    assert str(blocker) in str(error.value) and "--out" in str(error.value)


def test_atomic_write_replaces_and_leaves_no_temporary_file(tmp_path):
    """atomic_write_text replaces the old content and leaves only the target in the folder."""
    target = tmp_path / "config.yaml"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # readable by others, as write_text


def test_failed_atomic_write_keeps_the_old_file_and_no_temporary(tmp_path):
    """A write that fails half-way (text that cannot be encoded) leaves the old content and
    no temporary file behind."""
    target = tmp_path / "progress.json"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "half \ud800 written")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["progress.json"]


def test_partial_checkpoint_writes_are_removed(tmp_path):
    """Temporary files of cut-off checkpoint writes (ignite names them tmp*) are deleted and
    returned; real checkpoints stay."""
    good = write_checkpoint(tmp_path / "checkpoints", 2)
    partial = tmp_path / "checkpoints" / "tmpk3j_x9"
    partial.write_bytes(b"half a checkpoint")
    assert remove_partial_checkpoints(tmp_path) == [partial]
    assert sorted((tmp_path / "checkpoints").iterdir()) == [good]


def test_an_archived_record_cannot_be_resumed_and_says_why(tmp_path):
    """A run record (config + progress.json, no checkpoints) is refused as a run directory with
    a message naming it as an archived record; its progress gives the iteration and the end."""
    record = tmp_path / "psf_seed0" / "20260101-000000"
    record.mkdir(parents=True)
    (record / "config.yaml").write_text("seed: 0\n")
    write_progress(record, iteration=40, end=40, epoch_length=10)
    with pytest.raises(CheckpointError, match="archived run record"):
        require_run_dir(record)
    assert recorded_iteration(record) == 40
    assert planned_end(None, 4, record) == 40
