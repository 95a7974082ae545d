"""``mnist`` and ``fashion_mnist`` through torchvision, with clear errors when files are missing.

torchvision reads the IDX files from ``ROOT/MNIST/raw/`` (``ROOT/FashionMNIST/raw/``). Before
asking it, this module makes sure they are there: ``.gz`` copies in that folder are unpacked, and
for Fashion-MNIST the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/
fashion-mnist/``) is used when installed. With ``download=True`` torchvision's downloader runs.
Whatever fails, the error is one :class:`DataError` naming the files, not a torchvision traceback.
"""

from __future__ import annotations

import gzip
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from ganzoo.data.base import DatasetInfo, Images, in_memory_builder, require_files
from ganzoo.errors import DataError

logger = logging.getLogger(__name__)

# Folders searched for the IDX .gz files when ROOT lacks them (Debian's dataset packages).
SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "MNIST": (),
    "FashionMNIST": (Path("/usr/share/datasets/fashion-mnist"),),
}

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

MNIST_INFO = DatasetInfo(
    name="mnist",
    image_size=28,
    channels=1,
    classes=tuple(str(d) for d in range(10)),
    description="MNIST digits, 60,000 train + 10,000 test (torchvision)",
)
FASHION_INFO = DatasetInfo(
    name="fashion_mnist",
    image_size=28,
    channels=1,
    classes=FASHION_CLASSES,
    description="Fashion-MNIST, 60,000 train + 10,000 test (torchvision, or Debian's package)",
)


def idx_files(cls: type) -> list[str]:
    """The unpacked IDX file names torchvision needs in ``raw/`` (both splits: it checks all)."""
    return [Path(urlparse(url).path).name.removesuffix(".gz") for url, _ in cls.resources]


def _gunzip(source: Path, target: Path) -> None:
    logger.info("unpacking %s into %s", source, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with gzip.open(source, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        partial.replace(target)
    except OSError as exc:  # a corrupt .gz, or a root we cannot write
        partial.unlink(missing_ok=True)
        raise DataError(
            f"cannot unpack {source} into {target} ({type(exc).__name__}: {exc}); check that "
            f"{target.parent} is writable (or choose another data.root) and that the .gz file "
            f"is intact"
        ) from None


def _fill_from_gz(raw: Path, folder: str, names: list[str]) -> None:
    """Unpack missing IDX files from ``raw/NAME.gz`` or a system folder's ``NAME.gz``."""
    for name in names:
        target = raw / name
        if target.is_file():
            continue
        for directory in (raw, *SYSTEM_DIRS[folder]):
            source = directory / f"{name}.gz"
            if source.is_file():
                _gunzip(source, target)
                break


def _missing_message(dataset: str, folder: str, missing: list[Path]) -> str:
    listing = "\n  ".join(str(p) for p in missing)
    system = SYSTEM_DIRS[folder]
    debian = (
        f" or install Debian's copy (apt-get install dataset-fashion-mnist, which puts the .gz "
        f"files in {system[0]}/; ganzoo then uses them by itself),"
        if system
        else ""
    )
    return (
        f"dataset {dataset!r} is not in {missing[0].parent}: these files are missing:\n  "
        f"{listing}\nTo get them: set data.download: true on a machine with internet (or pass "
        f"download=True),{debian} or copy the IDX files (or their .gz) into {missing[0].parent}/."
    )


def _reader(info: DatasetInfo, folder: str) -> Callable[[Path, bool, bool], Images]:
    """``read(root, train, download)`` for torchvision's class ``folder`` (MNIST, FashionMNIST)."""
    dataset = info.name

    def read(root: Path, train: bool, download: bool) -> Images:
        import torchvision.datasets  # imported here: it takes seconds, validation needs none

        cls = getattr(torchvision.datasets, folder)
        raw = root / folder / "raw"
        names = idx_files(cls)
        _fill_from_gz(raw, folder, names)
        require_files(
            dataset,
            root,
            [raw / n for n in names],
            download,
            lambda: cls(str(root), train=train, download=True),
            lambda missing: _missing_message(dataset, folder, missing),
        )
        try:
            data = cls(str(root), train=train, download=False)
        except Exception as exc:  # torchvision asserts or fails to reshape a truncated file
            raise DataError(
                f"cannot read {dataset!r} from {', '.join(str(raw / n) for n in names)} "
                f"({type(exc).__name__}: {exc}); a file is corrupt or truncated: delete it and "
                f"download again (data.download: true) or copy an intact one there"
            ) from None
        return Images(data.data.unsqueeze(1).contiguous(), data.targets.clone(), info.classes)

    return read


MNIST_BUILDER = in_memory_builder(MNIST_INFO, _reader(MNIST_INFO, "MNIST"))
FASHION_BUILDER = in_memory_builder(FASHION_INFO, _reader(FASHION_INFO, "FashionMNIST"))
