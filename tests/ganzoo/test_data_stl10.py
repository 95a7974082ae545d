"""STL-10 offline (files written in the real binary format from real photo crops) and an image
folder of CelebA-shaped photos at 64 px: what the SNGAN STL-10 and CelebA configs train on."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.architectures.resnet import ResNetDiscriminator
from ganzoo.data import build_dataset, dataset_info, load_images
from ganzoo.data import stl10 as gstl10
from ganzoo.data.transforms import resize_square
from ganzoo.errors import DataError


def photo_crops(count: int, height: int, width: int, seed: int) -> np.ndarray:
    """``count`` random crops (N, height, width, 3) of real photos from scikit-image."""
    skdata = pytest.importorskip("skimage.data")
    photos = [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket()]
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        y = rng.integers(0, photo.shape[0] - height)
        x = rng.integers(0, photo.shape[1] - width)
        crops.append(photo[y : y + height, x : x + width, :3])
    return np.stack(crops)


def write_stl10(root: Path, counts: dict[str, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A small STL-10 in the real binary layout: each image as R, G, B planes of 96 x 96 in
    column-major order, labels 1..10 one byte each. Returns split -> (HWC images, labels 0..9)."""
    folder = root / gstl10.FOLDER
    folder.mkdir(parents=True)
    written = {}
    for seed, (split, count) in enumerate(counts.items()):
        images = photo_crops(count, 96, 96, seed)
        planes = images.transpose(0, 3, 2, 1)  # (N, C, W, H): column-major planes
        image_file, label_file = gstl10.SPLIT_FILES[split]
        (folder / image_file).write_bytes(np.ascontiguousarray(planes, dtype=np.uint8).tobytes())
        labels = np.arange(count) % 10
        if label_file is not None:
            (folder / label_file).write_bytes((labels + 1).astype(np.uint8).tobytes())
        written[split] = (images, labels)
    return written


@pytest.fixture(scope="module")
def stl_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("stl10")
    return root, write_stl10(root, {"train": 12, "test": 6, "unlabeled": 5})


def test_stl10_pixels_and_labels_equal_torchvision(stl_root, monkeypatch) -> None:
    """The same files read by torchvision's STL10 (integrity check off: the files are ours)
    give exactly our pixels and labels, for the labelled train and test splits and the
    unlabelled one; and our pixels are the photos we wrote (the column-major transpose)."""
    import torchvision.datasets as tvd

    root, written = stl_root
    monkeypatch.setattr(tvd.STL10, "_check_integrity", lambda self: True)
    for name, train, split in [
        ("stl10", True, "train"),
        ("stl10", False, "test"),
        ("stl10_unlabeled", True, "unlabeled"),
    ]:
        ours = build_dataset(name, root, train=train)
        theirs = tvd.STL10(str(root), split=split)
        assert len(ours) == len(theirs) == len(written[split][0])
        stacked = torch.stack([ours.uint8(i) for i in range(len(ours))])
        assert torch.equal(stacked, torch.from_numpy(theirs.data))
        assert torch.equal(stacked, torch.from_numpy(written[split][0]).permute(0, 3, 1, 2))
        assert [ours[i][1] for i in range(len(ours))] == theirs.labels.tolist()


def test_stl10_unlabeled_at_48_px_is_what_sngan_trains_on(stl_root) -> None:
    """stl10_unlabeled at image_size 48: items (3, 48, 48) in [-1, 1], label -1, equal to
    the antialiased resize of the 96 px image; limit keeps the first N; no class filter."""
    root, written = stl_root
    ds = build_dataset("stl10_unlabeled", root, image_size=48, limit=3)
    assert len(ds) == 3
    image, label = ds[2]
    assert image.shape == (3, 48, 48) and label == -1 and -1 <= image.min() < image.max() <= 1
    native = torch.from_numpy(written["unlabeled"][0][2]).permute(2, 0, 1).unsqueeze(0)
    assert torch.equal(ds.uint8(2), resize_square(native, 48)[0])
    assert load_images("stl10_unlabeled", root, n=2, image_size=48).shape == (2, 3, 48, 48)
    with pytest.raises(DataError, match="no class labels"):
        build_dataset("stl10_unlabeled", root, classes=["car"])
    info = dataset_info("stl10_unlabeled")
    assert (info.image_size, info.labelled, info.splits) == (96, False, ("train",))


def test_stl10_class_filter_and_pickling_does_not_copy_the_file(stl_root) -> None:
    """A class filter keeps the labelled images of that class (STL-10's names); a pickled
    dataset (as DataLoader workers get it) carries no image data and reads the same pixels."""
    root, written = stl_root
    birds = build_dataset("stl10", root, classes=["bird"])
    assert birds.labels.tolist() == [1, 1]  # images 1 and 11 of the 12 (labels i % 10)
    expected = torch.from_numpy(written["train"][0][11]).permute(2, 0, 1)
    assert torch.equal(birds.uint8(1), expected)  # also opens the memory map
    blob = pickle.dumps(birds)
    assert len(blob) < 5_000  # 2 images would be 55 kB
    assert torch.equal(pickle.loads(blob).uint8(1), expected)


def test_stl10_missing_files_say_how_to_get_them(tmp_path) -> None:
    """Without files: one DataError listing the missing file, the archive URL and both ways to
    get it; the unlabelled split has no test split."""
    with pytest.raises(DataError) as info:
        build_dataset("stl10_unlabeled", tmp_path)
    message = str(info.value)
    assert str(tmp_path / "stl10_binary" / "unlabeled_X.bin") in message
    assert "data.download: true" in message and gstl10.ARCHIVE_URL in message
    with pytest.raises(DataError, match="test_y.bin"):
        build_dataset("stl10", tmp_path, train=False)
    with pytest.raises(DataError, match="'stl10_unlabeled' has no test split"):
        build_dataset("stl10_unlabeled", tmp_path, train=False)


def test_stl10_failed_download_is_one_clear_error(tmp_path, monkeypatch) -> None:
    """download=True offline: one DataError saying the download failed and what is missing."""

    def offline(root):
        raise OSError("Name or service not known")

    monkeypatch.setattr(gstl10, "download_archive", offline)
    with pytest.raises(DataError, match="downloading 'stl10_unlabeled'.*Name or service"):
        build_dataset("stl10_unlabeled", tmp_path, download=True)


def test_stl10_truncated_or_corrupt_files_are_named(tmp_path) -> None:
    """A file that is not a whole number of images, a label file of the wrong length and a
    label outside 1..10 are DataErrors naming the file."""
    write_stl10(tmp_path, {"train": 4})
    folder = tmp_path / gstl10.FOLDER
    images = (folder / "train_X.bin").read_bytes()
    (folder / "train_X.bin").write_bytes(images[:-100])
    with pytest.raises(DataError, match="train_X.bin has .* not a whole number"):
        build_dataset("stl10", tmp_path)
    (folder / "train_X.bin").write_bytes(images)
    (folder / "train_y.bin").write_bytes(bytes([1, 2, 3]))
    with pytest.raises(DataError, match="3 labels for 4 images"):
        build_dataset("stl10", tmp_path)
    (folder / "train_y.bin").write_bytes(bytes([1, 2, 11, 4]))
    with pytest.raises(DataError, match=r"labels 1\.\.11; STL-10 labels are 1\.\.10"):
        build_dataset("stl10", tmp_path)


def test_stl10_layout_matches_torchvision() -> None:
    """Folder, file names and archive URL are torchvision's, so both read and download the
    same files."""
    from torchvision.datasets import STL10

    assert STL10.base_folder == gstl10.FOLDER and STL10.url == gstl10.ARCHIVE_URL
    names = {entry[0] for entry in STL10.train_list + STL10.test_list}
    ours = {f for pair in gstl10.SPLIT_FILES.values() for f in pair if f is not None}
    assert ours == names


def test_celeba_shaped_image_folder_at_64_px_feeds_the_resnet(tmp_path) -> None:
    """An image folder of 178 x 218 photos (aligned CelebA's size, flat as img_align_celeba/)
    at image_size 64: unlabelled (3, 64, 64) items equal to a centre crop of 178 x 178 resized
    to 64 (the usual CelebA-64 preprocessing) within rounding, and a batch goes through the
    64 px resnet discriminator."""
    from torchvision.transforms.v2.functional import center_crop, resize

    folder = tmp_path / "img_align_celeba"
    folder.mkdir()
    photos = photo_crops(3, 218, 178, seed=3)
    for i, photo in enumerate(photos):
        Image.fromarray(photo).save(folder / f"{i:06d}.png")
    ds = build_dataset("image_folder", folder, image_size=64)
    image, label = ds[0]
    assert image.shape == (3, 64, 64) and label == -1
    native = torch.from_numpy(photos[0]).permute(2, 0, 1)
    usual = resize(center_crop(native, [178, 178]), [64, 64], antialias=True)
    assert (ds.uint8(0).int() - usual.int()).abs().float().mean() < 3  # of 255
    batch = torch.stack([ds[i][0] for i in range(3)])
    assert ResNetDiscriminator((3, 64, 64), width=2)(batch).shape == (3,)
