"""2048-d pool features of the TF-2015 InceptionV3, through torch-fidelity's extractor.

The network is torch-fidelity's, with its weights read safely (:mod:`evaluation.weights`) and
rearranged for speed without changing what it computes: each batch norm folded into its
convolution (exact algebra, float rounding only) and the weights in channels-last memory
layout, which oneDNN's CPU convolutions run fastest. Features stay within about 1e-5 of
torch-fidelity's own (tested to 1e-4); ``benchmarks/bench_eval.py`` measures the speed-up.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import torch

from evaluation.images import DEFAULT_VALUE_RANGE, as_uint8_images, to_rgb
from evaluation.weights import WeightsSource, load_inception, resolve_inception_weights

log = logging.getLogger(__name__)

FEATURE_NAME = "2048"
RESIZE_PROTOCOL = (
    "uint8 RGB (grayscale repeated to 3 channels; float images quantized like "
    "torchvision.utils.save_image), resized to 299x299 inside torch-fidelity's "
    "FeatureExtractorInceptionV3 with its TF1-compatible bilinear interpolation "
    "(align_corners=False), scaled by (x - 128) / 128; 2048-d average-pool features"
)


@functools.lru_cache(maxsize=2)
def _load_model(weights_path: str, device: str) -> torch.nn.Module:
    # Read and checked with torch.load(weights_only=True): torch-fidelity never opens the file.
    model = fold_batch_norms(load_inception(weights_path, (FEATURE_NAME,)))
    return model.to(device, memory_format=torch.channels_last).eval()


def fold_batch_norms(model: torch.nn.Module) -> torch.nn.Module:
    """Fold every ``conv -> bn`` pair (torch-fidelity's ``BasicConv2d``) into one convolution
    with a bias, in eval mode: one pass over memory fewer per layer, the same function."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for module in model.modules():
        conv, bn = getattr(module, "conv", None), getattr(module, "bn", None)
        if isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d):
            module.conv = fuse_conv_bn_eval(conv.eval(), bn.eval())
            module.bn = torch.nn.Identity()
    return model


@functools.lru_cache(maxsize=8)
def _file_sha1(path: str, size: int, mtime: float) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


class InceptionFeatures:
    """Callable: images -> float32 array (N, 2048).

    The model is loaded once per process per weights file and device and shared.
    """

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        *,
        cache_dir: str | os.PathLike | None = None,
        allow_download: bool = True,
        device: str | torch.device = "cpu",
        batch_size: int = 32,
        progress: bool = False,
    ) -> None:
        self.source: WeightsSource = resolve_inception_weights(
            weights, cache_dir=cache_dir, allow_download=allow_download
        )
        self.device = str(device)
        self.batch_size = int(batch_size)
        self.progress = progress
        self.model = _load_model(str(self.source.path), self.device)

    @property
    def weights_sha1(self) -> str:
        path = Path(self.source.path)
        stat = path.stat()
        return _file_sha1(str(path), stat.st_size, stat.st_mtime)

    @property
    def extractor_id(self) -> str:
        """Names the features: the same id means comparable (cacheable) features."""
        return f"torch-fidelity-inception-v3-compat-{FEATURE_NAME}-{self.weights_sha1[:12]}"

    def describe(self) -> dict[str, str]:
        return {
            "feature_extractor": f"TF-2015 InceptionV3 via torch-fidelity "
            f"FeatureExtractorInceptionV3, feature '{FEATURE_NAME}'",
            "weights_source": self.source.kind,
            "weights_path": str(self.source.path),
            "weights_sha1": self.weights_sha1,
            "resize_protocol": RESIZE_PROTOCOL,
        }

    def __call__(
        self,
        images: torch.Tensor | np.ndarray,
        value_range: tuple[float, float] = DEFAULT_VALUE_RANGE,
    ) -> np.ndarray:
        images = to_rgb(as_uint8_images(images, value_range))
        chunks = []
        iterator = range(0, len(images), self.batch_size)
        if self.progress:
            from tqdm.auto import tqdm

            iterator = tqdm(iterator, desc="Inception features", unit="batch", leave=False)
        with torch.no_grad():
            for start in iterator:
                batch = images[start : start + self.batch_size].to(self.device)
                (features,) = self.model(batch.contiguous())
                chunks.append(features.cpu())
        if not chunks:
            return np.zeros((0, 2048), dtype=np.float32)
        out = torch.cat(chunks).numpy().astype(np.float32, copy=False)
        log.debug("extracted %s Inception features", out.shape)
        return out
