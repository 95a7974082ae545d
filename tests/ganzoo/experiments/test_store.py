"""The results store: records found by their key only, written atomically with mode 0644,
damaged files handled, wrong-shaped files refused in one line, and cell claims exclusive."""

from __future__ import annotations

import json
import stat

import pytest

from ganzoo.experiments.store import RecordStore, StoreError

KEY = {"task": "fake", "activation": "elu", "kwargs": {"alpha": 0.5}, "seed": 0}
RECORD = {"status": "ok", "curve": [{"iteration": 100, "score": 1.0}], "final": {"score": 1.0}}


def test_a_record_is_found_by_its_key_only(tmp_path):
    """The same key (a new dict object) finds the record; another seed or kwargs does not."""
    store = RecordStore(tmp_path)
    store.put("fake", KEY, RECORD)
    assert store.get("fake", dict(KEY))["curve"] == RECORD["curve"]
    assert store.get("fake", {**KEY, "seed": 1}) is None
    assert store.get("fake", {**KEY, "kwargs": {"alpha": 1.0}}) is None


def test_records_are_0644_and_leave_no_temporary_files(tmp_path):
    """Everything ganzoo writes is 0644 (issue 25: cell files were 0600); the atomic write
    leaves only the record in its folder."""
    path = RecordStore(tmp_path).put("fake", KEY, RECORD)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_truncated_record_is_treated_as_missing(tmp_path):
    """A file cut short makes its cell run again (None), and a new put replaces it."""
    store = RecordStore(tmp_path)
    path = store.put("fake", KEY, RECORD)
    path.write_text(path.read_text()[:20])
    assert store.get("fake", KEY) is None
    store.put("fake", KEY, RECORD)
    assert json.loads(path.read_text())["status"] == "ok"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ([1, 2, 3], "it holds a JSON list, not an object"),
        ({"key": KEY, "status": "ok", "curve": None}, "'curve' is not a list"),
        ({"key": KEY, "status": "ok", "curve": [[1]]}, "'curve' is not a list"),
        ({"key": KEY, "status": "maybe"}, "'status' is 'maybe'"),
        ({"status": "ok", "curve": []}, "'key' is missing"),
    ],
)
def test_valid_json_of_the_wrong_shape_is_one_line_error(tmp_path, content, problem):
    """Issue 25: `[1,2,3]` or `"curve": null` in a cell file crashed with a traceback; now a
    StoreError names the file, what is wrong and how to fix it, in one line."""
    store = RecordStore(tmp_path)
    path = store.path("fake", KEY)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(content))
    with pytest.raises(StoreError) as caught:
        store.get("fake", KEY)
    message = str(caught.value)
    assert str(path) in message and problem in message and "delete the file" in message
    assert "\n" not in message


def test_a_claim_is_exclusive_until_released(tmp_path):
    """While one claim on a cell is held, a second one is refused at once; after release it
    is granted. Other cells are independent."""
    store = RecordStore(tmp_path)
    with store.claim("fake", KEY) as first:
        assert first is True
        with store.claim("fake", KEY) as second:
            assert second is False
        with store.claim("fake", {**KEY, "seed": 1}) as other:
            assert other is True
    with store.claim("fake", KEY) as again:
        assert again is True


def test_an_unwritable_store_is_one_error(tmp_path):
    """A store below a file cannot be made: one error naming the file, no traceback."""
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(Exception, match="is a file, not a folder") as caught:
        RecordStore(blocker / "store").check_writable()
    assert "--store" in str(caught.value)
