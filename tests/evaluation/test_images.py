"""Image inputs: quantization, folders, samplers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evaluation.errors import ImageInputError
from evaluation.images import (
    as_uint8_images,
    choose_subset,
    draw_from_sampler,
    load_image_folder,
    resolve_images,
    save_image_folder,
)


def test_float_images_quantize_like_saved_pngs(tmp_path):
    """A tanh-range float tensor gives exactly the pixels torchvision's save_image writes, so a
    tensor and the PNGs saved from it are evaluated identically."""
    from torchvision.utils import save_image

    x = torch.rand(3, 3, 8, 8) * 2 - 1
    for i, img in enumerate(x):
        save_image((img + 1) / 2, tmp_path / f"{i}.png")
    assert torch.equal(as_uint8_images(x), load_image_folder(tmp_path))


def test_grayscale_folder_keeps_one_channel_and_roundtrips(tmp_path):
    """uint8 grayscale images written as PNG read back identical, as (N, 1, H, W)."""
    images = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    save_image_folder(images, tmp_path)
    assert torch.equal(load_image_folder(tmp_path), images)


def test_shapes_are_normalised_and_bad_ones_refused():
    """(N, H, W) gains a channel; NHWC numpy arrays are transposed; 2 channels are refused."""
    assert as_uint8_images(torch.zeros(4, 9, 9, dtype=torch.uint8)).shape == (4, 1, 9, 9)
    assert as_uint8_images(np.zeros((4, 9, 9, 3), dtype=np.uint8)).shape == (4, 3, 9, 9)
    with pytest.raises(ImageInputError, match="C = 1 or 3"):
        as_uint8_images(torch.zeros(4, 2, 9, 9))
    assert as_uint8_images(torch.full((1, 1, 2, 2), 1.0)).unique().tolist() == [255]


def test_empty_folder_and_missing_folder_are_clear(tmp_path):
    """No images, or no folder: an error naming the folder."""
    with pytest.raises(ImageInputError, match="no images"):
        load_image_folder(tmp_path)
    with pytest.raises(ImageInputError, match="does not exist"):
        load_image_folder(tmp_path / "nope")


def test_subsets_are_seeded_and_spread_over_sorted_data():
    """A subset of class-sorted data is random, not the first N, and the same for one seed."""
    first = choose_subset(1000, 100, seed=0)
    assert np.array_equal(first, choose_subset(1000, 100, seed=0))
    assert first.max() > 500 and len(set(first)) == 100
    with pytest.raises(ImageInputError, match="only 10"):
        choose_subset(10, 20, seed=0)


def test_sampler_is_called_in_batches():
    """A sampler is asked for at most batch_size images at a time, num_samples in total."""
    calls = []

    def sample(n):
        calls.append(n)
        return torch.zeros(n, 1, 4, 4)

    images = draw_from_sampler(sample, 10, batch_size=4)
    assert calls == [4, 4, 2] and images.shape == (10, 1, 4, 4)
    assert images.unique().tolist() == [128]  # 0.0 in (-1, 1) maps to the middle grey
    with pytest.raises(ImageInputError, match="number of samples"):
        resolve_images(sample, None)


def test_folders_take_every_format_training_reads(tmp_path):
    """`ganzoo eval --images` reads the formats the image_folder training data reads
    (torchvision's ImageFolder list: BMP, TIFF, ... not only PNG/JPEG), and skips hidden files
    as training does."""
    from PIL import Image
    from torchvision.datasets.folder import IMG_EXTENSIONS

    from evaluation.images import IMAGE_EXTENSIONS, list_image_files, load_image_folder

    assert set(IMAGE_EXTENSIONS) == set(IMG_EXTENSIONS)
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8)
    for name in ("a.bmp", "b.tif", "c.png", ".hidden.png"):
        Image.fromarray(pixels).save(tmp_path / name)
    assert [p.name for p in list_image_files(tmp_path)] == ["a.bmp", "b.tif", "c.png"]
    images = load_image_folder(tmp_path)
    assert images.shape == (3, 1, 8, 8) and bool((images == torch.from_numpy(pixels)).all())
