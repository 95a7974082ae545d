"""``cifar10``: torchvision's CIFAR-10 files, read in their python-pickle format.

The files are torchvision's (``ROOT/cifar-10-batches-py/data_batch_1`` ... ``data_batch_5``,
``test_batch``, ``batches.meta``) and ``download=True`` runs torchvision's downloader (the call
``CIFAR10.download`` makes), which checks the archive's MD5. Reading is done here rather than by
``torchvision.datasets.CIFAR10``, which refuses any file whose MD5 differs from the official
one with "not found or corrupted", so it cannot say which file is missing or broken, nor read a
subset written in the same format (the tests do that offline). Instead each file is checked for
what it must contain: a restricted unpickler (numpy arrays, lists, numbers and strings only; no
arbitrary code) and the shapes of ``data`` (uint8, N x 3072: the R, G and B planes of a 32 x 32
image, row major) and ``labels``. A file whose MD5 is not the official one is logged as a
warning, then used.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganzoo.data.base import DatasetInfo, Images, in_memory_builder, require_files
from ganzoo.errors import DataError

logger = logging.getLogger(__name__)

# The layout torchvision.datasets.CIFAR10 uses (its base_folder, train_list, test_list and meta),
# written out so that reading needs no torchvision import; MD5s of the official files.
FOLDER = "cifar-10-batches-py"
TRAIN_FILES = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
}
TEST_FILES = {"test_batch": "40351d587109b95175f43aff81a1287e"}
META_FILE = "batches.meta"
META_MD5 = "5ff9c542aee3614f3951f8cda6e48888"
ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

INFO = DatasetInfo(
    name="cifar10",
    image_size=32,
    channels=3,
    classes=CLASSES,
    description="CIFAR-10, 50,000 train + 10,000 test, 32x32 RGB (torchvision's files)",
)

# Everything a CIFAR pickle needs: numpy's array reconstruction (numpy 1 and 2 module names)
# and the codec that Python 3's protocol-2 pickles use for bytes.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _CifarUnpickler(pickle.Unpickler):
    """Loads only the objects a CIFAR batch contains; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR file")
        if module == "numpy.core.multiarray":  # the module name in the original files
            module = "numpy._core.multiarray" if hasattr(np, "_core") else module
        return super().find_class(module, name)


def _text(value: Any) -> Any:
    return value.decode("latin1") if isinstance(value, bytes) else value


def load_pickle(path: Path) -> dict[str, Any]:
    """A CIFAR pickle as a dict with str keys (Python 2 pickles: keys may come as bytes)."""
    try:
        with open(path, "rb") as f:
            entry = _CifarUnpickler(f, encoding="latin1").load()
    except Exception as exc:  # truncated (EOFError), garbage (UnpicklingError), odd contents
        raise DataError(
            f"cannot read the CIFAR-10 file {path} ({type(exc).__name__}: {exc}); it is corrupt "
            f"or truncated: delete {path.parent} and download again (data.download: true) or "
            f"copy intact files there"
        ) from None
    if not isinstance(entry, dict):
        raise DataError(f"the CIFAR-10 file {path} holds a {type(entry).__name__}, not a dict")
    return {_text(k): v for k, v in entry.items()}


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (uint8 (N, 3, 32, 32), int64 labels (N,)), its contents checked."""
    entry = load_pickle(path)
    data, labels = entry.get("data"), entry.get("labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise DataError(
            f"the CIFAR-10 file {path} lacks 'data' (a uint8 array) or 'labels'; found keys "
            f"{sorted(entry)}"
        )
    labels = np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"'data' in the CIFAR-10 file {path} must be uint8 of shape (N, 3072), got "
            f"{data.dtype} {data.shape}"
        )
    if labels.shape != (len(data),) or (len(labels) and not 0 <= labels.min() <= labels.max() < 10):
        raise DataError(
            f"'labels' in the CIFAR-10 file {path} must be {len(data)} class indices 0..9"
        )
    return data.reshape(-1, 3, 32, 32), labels


def read_class_names(path: Path) -> tuple[str, ...]:
    """``label_names`` from ``batches.meta``."""
    names = load_pickle(path).get("label_names")
    if not isinstance(names, list) or len(names) != len(CLASSES):
        raise DataError(f"{path} must hold 'label_names', a list of {len(CLASSES)} class names")
    return tuple(_text(n) for n in names)


def _warn_if_unofficial(paths: dict[Path, str]) -> None:
    odd = [p for p, md5 in paths.items() if hashlib.md5(p.read_bytes()).hexdigest() != md5]
    if odd:
        logger.warning(
            "%s differ from the official CIFAR-10 files (MD5); their format is valid, so they "
            "are used as they are",
            ", ".join(str(p) for p in odd),
        )


def download_archive(root: Path) -> None:
    """Fetch and unpack the official archive into ``root``, as ``CIFAR10.download`` does."""
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import download_and_extract_archive

    download_and_extract_archive(
        CIFAR10.url, str(root), filename=CIFAR10.filename, md5=CIFAR10.tgz_md5
    )


def _missing_message(missing: list[Path], root: Path) -> str:
    listing = "\n  ".join(str(p) for p in missing)
    return (
        f"dataset 'cifar10' is not in {root}: these files are missing:\n  {listing}\n"
        f"To get them: set data.download: true on a machine with internet (or pass "
        f"download=True; torchvision fetches {ARCHIVE_URL} and unpacks it into {root}), or "
        f"unpack cifar-10-python.tar.gz yourself so that {root / FOLDER}/ holds those files."
    )


def read(root: Path, train: bool, download: bool) -> Images:
    """One split of CIFAR-10 from ``root/cifar-10-batches-py``."""
    folder = root / FOLDER
    files = TRAIN_FILES if train else TEST_FILES
    expected = {folder / name: md5 for name, md5 in files.items()}
    expected[folder / META_FILE] = META_MD5
    require_files(
        "cifar10",
        root,
        list(expected),
        download,
        lambda: download_archive(root),
        lambda missing: _missing_message(missing, root),
    )
    _warn_if_unofficial(expected)
    batches = [read_batch(folder / name) for name in files]
    classes = read_class_names(folder / META_FILE)
    images = torch.from_numpy(np.concatenate([b[0] for b in batches]))
    labels = torch.from_numpy(np.concatenate([b[1] for b in batches]))
    return Images(images, labels, classes)


BUILDER = in_memory_builder(INFO, read)
