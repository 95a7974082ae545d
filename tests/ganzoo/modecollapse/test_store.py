import pytest

from ganzoo.errors import GanzooError
from ganzoo.modecollapse.store import append_record, load_records, run_key


def _rec(seed, iterations=10):
    return {
        "task": "ring8",
        "activation": "elu",
        "seed": seed,
        "settings": {"iterations": iterations, "batch_size": 8},
        "modes_covered": seed,
    }


def test_records_round_trip_and_are_keyed_by_settings_too(tmp_path):
    """Appended records load back under their key; the same seed with other settings is a
    different run."""
    path = tmp_path / "runs.jsonl"
    append_record(path, _rec(0))
    append_record(path, _rec(1))
    records = load_records(path)
    assert len(records) == 2
    key = run_key("ring8", "elu", 1, {"batch_size": 8, "iterations": 10})
    assert records[key]["modes_covered"] == 1
    assert run_key("ring8", "elu", 1, {"batch_size": 8, "iterations": 20}) not in records


def test_a_truncated_last_line_is_skipped_but_a_corrupt_middle_line_is_an_error(tmp_path):
    """A run killed mid-write loses only itself; garbage inside the file is reported."""
    path = tmp_path / "runs.jsonl"
    append_record(path, _rec(0))
    with path.open("a") as f:
        f.write('{"task": "ring8", "activ')
    assert len(load_records(path)) == 1
    path.write_text('not json\n{"a": 1}\n')
    with pytest.raises(GanzooError, match="line 1"):
        load_records(path)
