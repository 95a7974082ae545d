"""The GPU benchmark (``make gpu-bench``): how fast ganzoo's recipes train and evaluate on CUDA.

One run prints one table:

- it/s of ``ganzoo train`` (the engine with its handlers) on the ``dcgan_cifar_lrelu``,
  ``dcgan_cifar_psf``, ``sngan_cifar`` and ``sngan_cifar_psf`` recipes, at fp32 eager, bf16 and
  bf16 + ``train.compile``; CIFAR-10 is used when present, else random data written in CIFAR-10's
  file format (the speed does not depend on the pixels; the output says which);
- the ratios PSF/LeakyReLU (DCGAN) and PSF-SNGAN/ReLU-SNGAN (time per iteration), and PAU in the
  DCGAN recipe against LeakyReLU;
- the achieved TFLOP/s of each recipe (FLOPs of one iteration from ``torch.utils.flop_counter``
  times it/s) against the chip's bf16 peak, measured here with a large bf16 matmul;
- torch-mimicry's SNGAN-32 step (n_dis 5, batch 64) when torch-mimicry is installed, else a line
  saying it was skipped;
- FID of 50,000 generated 32 px images end to end (generation, Inception features, statistics)
  against torch-fidelity's own loop on the same images; the features must agree within 1e-4.
  Without the real Inception weights a randomly initialised network of the same shape is used
  (the speed does not depend on the values) and the output says so.

Without CUDA it says so and exits 0. ``--device cpu --tiny`` runs every piece at toy sizes (the
tests do), to check the script where there is no GPU.

Usage: python benchmarks/gpu_bench.py [--device cuda] [--tiny] [--no-compile] [--fid-images N]
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `evaluation` lives beside ganzoo in the repository

RECIPES = ("dcgan_cifar_lrelu", "dcgan_cifar_psf", "sngan_cifar", "sngan_cifar_psf")
MODES = {"fp32": ("fp32", False), "bf16": ("bf16", False), "bf16+compile": ("bf16", True)}
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse")
CIFAR_CLASSES += ("ship", "truck")  # batches.meta's order

logger = logging.getLogger("gpu_bench")


@dataclass
class Sizes:
    """How much each piece does: the real run's sizes, or toy ones (``--tiny``)."""

    warmup: int = 20  # iterations before timing (compilation happens here)
    seconds: float = 2.0  # at least this long timed per recipe and mode
    min_iterations: int = 20
    fid_images: int = 50_000
    reference_images: int = 10_000
    fid_batch: int = 500
    matmul: int = 8192
    cifar_per_file: int = 10_000
    overrides: list[str] = field(default_factory=list)  # applied to every recipe


TINY = Sizes(
    warmup=2,
    seconds=0.0,
    min_iterations=2,
    fid_images=16,
    reference_images=16,
    fid_batch=8,
    matmul=256,
    cifar_per_file=64,
    overrides=[
        "train.batch_size=4",
        "generator.width=8",
        "discriminator.width=8",
        "data.classes=null",
    ],
)


# -- data -----------------------------------------------------------------------------------


def write_random_cifar(root: Path, per_file: int = 10_000, seed: int = 0) -> Path:
    """Random uint8 images in CIFAR-10's python-pickle files under ``root/cifar-10-batches-py``
    (five training batches, the test batch, batches.meta): what ganzoo's reader accepts."""
    folder = root / CIFAR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {
            "data": rng.integers(0, 256, (per_file, 3 * 32 * 32), dtype=np.uint8),
            "labels": [int(v) for v in rng.integers(0, 10, per_file)],
        }
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    (folder / "batches.meta").write_bytes(
        pickle.dumps({"label_names": list(CIFAR_CLASSES)}, protocol=2)
    )
    return root


def cifar_root(work: Path, per_file: int) -> tuple[Path, str]:
    """(data root, what it holds): the real CIFAR-10 under ./data when present, else random."""
    real = ROOT / "data"
    if (real / CIFAR_FOLDER / "data_batch_1").is_file():
        return real, "CIFAR-10"
    return write_random_cifar(work / "cifar", per_file), "random data in CIFAR-10's file format"


# -- training speed -------------------------------------------------------------------------


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def recipe_config(recipe: str, device: str, precision: str, compiled: bool, extra: list[str]):
    """A recipe's config with ``precision``/``compile`` on ``device``; no evaluation, samples
    or checkpoints inside the timed iterations."""
    from ganzoo.config import load_config

    overrides = [
        f"train.device={device}",
        f"train.precision={precision}",
        f"train.compile={str(compiled).lower()}",
        "train.progress=false",
        "train.sample_every=100000000",
        "train.checkpoint_every=100000000",
        "eval.every=null",
        *extra,
    ]
    return load_config(ROOT / "configs" / f"{recipe}.yaml", overrides)


def iterations_per_second(
    config, work: Path, sizes: Sizes, flops: dict[str, float] | None = None
) -> float:
    """it/s of ``ganzoo train`` on ``config``: the engine with its handlers, timed after
    ``sizes.warmup`` iterations for at least ``sizes.seconds`` and ``sizes.min_iterations``.
    With ``flops`` given, one iteration's FLOPs (torch.utils.flop_counter) go into it."""
    from ignite.engine import Events

    from ganzoo.data import build_dataset
    from ganzoo.engine.trainer import create_training

    torch._dynamo.reset()
    d = config.data
    dataset = build_dataset(
        d.name, d.root, image_size=d.image_size, classes=d.classes, limit=d.limit
    )
    # Enough iterations: estimated from a first timing of the warm-up.
    config.train.iterations = sizes.warmup + 10**9
    config.train.epochs = 10**9
    run_dir = Path(tempfile.mkdtemp(dir=work, prefix="run-"))
    training = create_training(config, run_dir, dataset, progress=False)
    device = training.device
    marks: dict[str, float] = {}

    @training.engine.on(Events.ITERATION_COMPLETED)
    def _clock(engine) -> None:
        iteration = engine.state.iteration
        if iteration == sizes.warmup:
            synchronize(device)
            marks["start"] = time.perf_counter()
        elif "start" in marks and ((iteration - sizes.warmup) % 5 == 0 or sizes.seconds == 0):
            synchronize(device)
            elapsed = time.perf_counter() - marks["start"]
            done = iteration - sizes.warmup
            if elapsed >= sizes.seconds and done >= sizes.min_iterations:
                marks["elapsed"], marks["done"] = elapsed, done
                engine.terminate()

    training.run()
    if flops is not None:
        flops["per_iteration"] = iteration_flops(training)
    return marks["done"] / marks["elapsed"]


def iteration_flops(training) -> float:
    """FLOPs of one training iteration (forward and backward of every D and G update)."""
    from torch.utils.flop_counter import FlopCounterMode

    batch = next(iter(training.loader))
    step = training.step
    eager = type(step)(
        step.generator,
        step.discriminator,
        step.optimizer_g,
        step.optimizer_d,
        step.loss,
        step.device,
        n_critic=step.n_critic,
        augment=step.augment,
    )
    counter = FlopCounterMode(display=False)
    with counter:
        eager.run(batch, 1)
    return float(counter.get_total_flops())


def bf16_peak(device: torch.device, size: int) -> float:
    """The chip's bf16 matmul rate in FLOP/s, measured: a ``size``-square matmul, best of 10."""
    dtype = torch.bfloat16
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(10):
        synchronize(device)
        started = time.perf_counter()
        for _ in range(5):
            a @ b
        synchronize(device)
        best = min(best, (time.perf_counter() - started) / 5)
    return 2 * size**3 / best


# -- torch-mimicry --------------------------------------------------------------------------


def mimicry_sngan_speed(device: torch.device, sizes: Sizes) -> float | None:
    """it/s of torch-mimicry's SNGAN-32 (its networks, hinge loss, n_dis 5, batch 64, Adam
    2e-4 (0, 0.9)) on random images; None when torch-mimicry is not installed."""
    try:
        from torch_mimicry.nets import sngan
    except ImportError:
        return None
    g = sngan.SNGANGenerator32().to(device)
    d = sngan.SNGANDiscriminator32().to(device)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.0, 0.9))
    batch = 64

    def iteration() -> None:
        for _ in range(5):
            real = torch.rand(batch, 3, 32, 32, device=device) * 2 - 1
            fake = g(torch.randn(batch, g.nz, device=device)).detach()
            loss = torch.relu(1 - d(real)).mean() + torch.relu(1 + d(fake)).mean()
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
        loss_g = -d(g(torch.randn(batch, g.nz, device=device))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

    return _rate(iteration, device, sizes)


def _rate(work: Callable[[], None], device: torch.device, sizes: Sizes) -> float:
    for _ in range(sizes.warmup):
        work()
    synchronize(device)
    started, done = time.perf_counter(), 0
    while True:
        work()
        done += 1
        if done % 5 == 0 or sizes.seconds == 0:
            synchronize(device)
            elapsed = time.perf_counter() - started
            if elapsed >= sizes.seconds and done >= sizes.min_iterations:
                return done / elapsed


# -- FID ------------------------------------------------------------------------------------


def random_inception_weights(path: Path, seed: int = 0) -> Path:
    """A randomly initialised InceptionV3 of torch-fidelity's layout, saved as a weights file
    (the real weights are large and need the internet; the speed does not depend on them)."""
    from evaluation.weights import _unloaded_inception

    torch.manual_seed(seed)
    model = _unloaded_inception().to_empty(device="cpu")
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    for name, buffer in model.named_buffers():  # batch-norm statistics of a fresh network
        if name.endswith("running_var"):
            buffer.fill_(1.0)
        elif name.endswith("running_mean"):
            buffer.zero_()
    torch.save(model.state_dict(), path)
    return path


def inception_weights(work: Path) -> tuple[str, str]:
    """(weights path, description): the real TF-2015 weights when found offline, else random."""
    from evaluation.weights import resolve_inception_weights

    try:
        source = resolve_inception_weights(None, allow_download=False)
        return str(source.path), f"real TF-2015 InceptionV3 weights ({source.kind})"
    except Exception:  # not on this machine: same network, random values
        path = random_inception_weights(work / "random-inception.pth")
        return str(path), "a randomly initialised InceptionV3 (real weights absent; same speed)"


def fid_end_to_end(
    generator: torch.nn.Module, weights: str, device: torch.device, sizes: Sizes
) -> dict[str, float]:
    """Seconds for FID of ``sizes.fid_images`` generated images (generation, features,
    statistics, distance to reference statistics), ours and torch-fidelity's loop on the same
    images, and the largest feature difference between the two."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.utils import get_featuresdict_from_dataset

    from evaluation.features import InceptionFeatures
    from evaluation.fid import feature_statistics, fid_from_stats
    from evaluation.images import as_uint8_images

    ours = InceptionFeatures(weights, device=device, batch_size=sizes.fid_batch)
    reference = torch.randint(0, 256, (sizes.reference_images, 3, 32, 32), dtype=torch.uint8)
    reference_stats = feature_statistics(ours(reference))
    generator = generator.to(device).eval()
    latent = generator.latent_dim

    synchronize(device)
    started = time.perf_counter()
    chunks = []
    with torch.no_grad():
        for start in range(0, sizes.fid_images, sizes.fid_batch):
            count = min(sizes.fid_batch, sizes.fid_images - start)
            images = generator(torch.randn(count, latent, device=device))
            chunks.append(as_uint8_images(images, (-1.0, 1.0)))
    generated = torch.cat(chunks)
    features = ours(generated)
    fid = fid_from_stats(feature_statistics(features), reference_stats)
    ours_seconds = time.perf_counter() - started

    images = generated.cpu()
    theirs = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=weights
    ).to(device)
    synchronize(device)
    started = time.perf_counter()
    found = get_featuresdict_from_dataset(
        _Images(images), theirs, sizes.fid_batch, device.type == "cuda", True, False
    )["2048"]
    their_stats = fid_features_to_statistics(found)
    ref = {  # in the dtypes torch-fidelity's own statistics have (it asserts they match)
        "mu": reference_stats.mu.astype(their_stats["mu"].dtype),
        "sigma": reference_stats.sigma.astype(their_stats["sigma"].dtype),
    }
    their_fid = fid_statistics_to_metric(their_stats, ref, False)["frechet_inception_distance"]
    theirs_seconds = time.perf_counter() - started
    difference = float(np.abs(features - found.cpu().numpy()).max())
    return {
        "ours_s": ours_seconds,
        "theirs_s": theirs_seconds,
        "feature_diff": difference,
        "feature_scale": float(np.abs(features).max()),
        "fid": float(fid),
        "their_fid": float(their_fid),
    }


class _Images(torch.utils.data.Dataset):
    """uint8 RGB images as torch-fidelity's dataset input wants them."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images.contiguous()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]


# -- the run --------------------------------------------------------------------------------


def speed_table(
    device: str, work: Path, sizes: Sizes, compile_modes: bool = True
) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """{(recipe, mode): it/s} over every recipe and mode, plus PAU in the DCGAN recipe, and
    {recipe: FLOPs per iteration}."""
    root, _ = cifar_root(work, sizes.cifar_per_file)
    rates: dict[tuple[str, str], float] = {}
    flops: dict[str, float] = {}
    data = [f"data.root={root}"]
    jobs = [(recipe, recipe, []) for recipe in RECIPES]
    pau = ["generator.activation=pau", "discriminator.activation=pau"]
    pau += ["generator.activation_kwargs={}", "discriminator.activation_kwargs={}"]
    jobs.append(("dcgan_cifar_pau", "dcgan_cifar_lrelu", pau))
    for name, recipe, extra in jobs:
        for mode, (precision, compiled) in MODES.items():
            if compiled and (not compile_modes or name not in RECIPES):  # PAU: eager only
                continue
            config = recipe_config(recipe, device, precision, compiled, data)
            for item in [*extra, *sizes.overrides]:
                key, value = item.split("=", 1)
                _set(config, key, value)
            counted: dict[str, float] | None = {} if mode == "fp32" else None
            started = time.perf_counter()
            rates[(name, mode)] = iterations_per_second(config, work, sizes, counted)
            if counted:
                flops[name] = counted["per_iteration"]
            logger.info(
                "%s %s: %.2f it/s (%.0f s)",
                name,
                mode,
                rates[(name, mode)],
                time.perf_counter() - started,
            )
    return rates, flops


def _set(config, key: str, value: str) -> None:
    """Apply one ``section.key=value`` override to a built config (YAML-typed value)."""
    import yaml

    section, name = key.split(".", 1)
    target = getattr(config, section)
    parsed = yaml.safe_load(value)
    if isinstance(target, dict):
        target[name] = parsed
    else:
        setattr(target, name, parsed)


def ratio_lines(rates: dict[tuple[str, str], float]) -> list[str]:
    """Time-per-iteration ratios: PSF/LeakyReLU and PAU/LeakyReLU (DCGAN), PSF/ReLU (SNGAN)."""
    pairs = [
        ("PSF DCGAN / LeakyReLU DCGAN", "dcgan_cifar_psf", "dcgan_cifar_lrelu"),
        ("PSF SNGAN / ReLU SNGAN", "sngan_cifar_psf", "sngan_cifar"),
        ("PAU DCGAN / LeakyReLU DCGAN", "dcgan_cifar_pau", "dcgan_cifar_lrelu"),
    ]
    lines = []
    for label, slow, base in pairs:
        cells = []
        for mode in MODES:
            if (slow, mode) in rates and (base, mode) in rates:
                cells.append(f"{mode} {rates[(base, mode)] / rates[(slow, mode)]:.2f}")
        lines.append(f"{label:<30} " + ", ".join(cells))
    return lines


def report(
    rates: dict[tuple[str, str], float],
    flops: dict[str, float],
    peak: float,
    data: str,
) -> list[str]:
    """The table: it/s per recipe and mode, TFLOP/s achieved (share of peak), then ratios."""
    names = sorted({name for name, _ in rates}, key=lambda n: (n not in RECIPES, n))
    modes = [m for m in MODES if any((n, m) in rates for n in names)]
    lines = [f"training on {data}; it/s of `ganzoo train` (engine and handlers)"]
    lines.append(f"{'recipe':<20}" + "".join(f"{m:>14}" for m in modes) + "   best TFLOP/s")
    for name in names:
        cells = "".join(
            f"{rates[(name, m)]:>14.2f}" if (name, m) in rates else " " * 14 for m in modes
        )
        best = max(rates[(name, m)] for m in modes if (name, m) in rates)
        achieved = flops.get(name, 0.0) * best / 1e12
        share = f" ({100 * achieved * 1e12 / peak:.1f}% of peak)" if peak else ""
        lines.append(f"{name:<20}{cells}   {achieved:8.2f}{share}")
    lines.append(f"bf16 peak (measured, large matmul): {peak / 1e12:.1f} TFLOP/s")
    lines += ratio_lines(rates)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu with --tiny")
    parser.add_argument("--tiny", action="store_true", help="toy sizes: check the script")
    parser.add_argument("--no-compile", action="store_true", help="skip bf16 + compile")
    parser.add_argument("--fid-images", type=int, help="images for the FID timing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("ignite", "ganzoo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Random CIFAR files differ from the official ones by design; the table says which data.
    logging.getLogger("ganzoo.data.cifar").setLevel(logging.ERROR)

    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            f"gpu-bench: no CUDA GPU on this machine (torch {torch.__version__}, CUDA build "
            f"{torch.version.cuda or 'none'}); nothing to measure here. Run `make gpu-bench` "
            f"on a machine with a GPU."
        )
        return 0
    sizes = TINY if args.tiny else Sizes()
    if args.fid_images:
        sizes.fid_images = args.fid_images
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"gpu-bench on {name}, torch {torch.__version__}{' (tiny sizes)' if args.tiny else ''}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ganzoo-gpu-bench-") as tmp:
        work = Path(tmp)
        _, data = cifar_root(work, sizes.cifar_per_file)
        rates, flops = speed_table(args.device, work, sizes, not args.no_compile)
        peak = bf16_peak(device, sizes.matmul)
        for line in report(rates, flops, peak, data):
            print(line)

        mimicry = mimicry_sngan_speed(device, sizes)
        if mimicry is None:
            print("torch-mimicry SNGAN-32: skipped (torch-mimicry is not installed)")
        else:
            ours = rates.get(("sngan_cifar", "fp32"))
            print(
                f"torch-mimicry SNGAN-32: {mimicry:.2f} it/s (ganzoo sngan_cifar fp32: {ours:.2f})"
            )

        weights, described = inception_weights(work)
        from ganzoo.architectures import get_architecture

        generator = get_architecture("resnet").generator(data_shape=(3, 32, 32))
        fid = fid_end_to_end(generator, weights, device, sizes)
        agree = fid["feature_diff"] <= 1e-4
        print(
            f"FID of {sizes.fid_images:,} 32 px images end to end: ours {fid['ours_s']:.1f} s, "
            f"torch-fidelity's loop {fid['theirs_s']:.1f} s "
            f"({fid['theirs_s'] / fid['ours_s']:.2f}x); features max |diff| "
            f"{fid['feature_diff']:.1e} (scale {fid['feature_scale']:.2g}) "
            f"{'<=' if agree else '>'} 1e-4; FID {fid['fid']:.3f} vs {fid['their_fid']:.3f}; "
            f"Inception: {described}"
        )
    print(f"gpu-bench: done in {time.perf_counter() - started:.0f} s")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
