"""The experiment config: one dataclass schema, loaded from YAML with dotted overrides.

OmegaConf merges the YAML file and the command-line overrides onto the schema, coercing types
and refusing unknown keys; :func:`validate` then checks values that types cannot (a negative
batch size, an image size the architecture cannot make, an unknown activation) before any work
starts. Every error names the key and the file.
"""

from __future__ import annotations

import copy
import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ganzoo.config_types import kind_problem, plain_message
from ganzoo.errors import ConfigError, GanzooError


@dataclass
class DataConfig:
    name: str = "mnist5k"  # a dataset name from ganzoo.data (mnist5k needs no network)
    root: str = "data"  # where torchvision-style datasets live (or the image folder itself)
    classes: list[str] | None = None  # keep only these classes, e.g. [automobile] for the paper
    download: bool = False  # let torchvision download the dataset (needs internet)
    image_size: int = 32  # DCGAN makes 28, 32 or 64; MNIST is resized from 28 when 32
    channels: int | None = None  # None keeps the dataset's own (1 for MNIST, 3 for CIFAR-10)
    limit: int | None = None  # use only the first N images (class-balanced), for quick runs
    num_workers: int = 0  # DataLoader workers; 0 loads in the training process


@dataclass
class TrainConfig:
    batch_size: int = 64
    epochs: int = 5
    iterations: int | None = None  # total generator updates; when set it wins over epochs
    # A loss from ganzoo.losses (`ganzoo losses` lists them): bce (non-saturating, DCGAN's),
    # hinge (SNGAN), lsgan, wgan, wgan_gp, or a plugin's.
    loss: str = "bce"
    loss_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. {gp_weight: 10} for wgan_gp
    r1_gamma: float = (
        0.0  # R1 penalty on real images, gamma/2 E|grad D(x)|^2, with any loss; 0: off
    )
    # Discriminator updates per generator update, each on its own real batch (WGAN-GP and SNGAN
    # use 5); an iteration then draws n_critic x batch_size images.
    n_critic: int = 1
    lr_g: float = 2e-4  # DCGAN: Adam, lr 2e-4, beta1 0.5 for both networks
    lr_d: float = 2e-4
    beta1: float = 0.5  # Adam betas of both networks, unless betas_g / betas_d say otherwise
    beta2: float = 0.999
    betas_g: list[float] | None = None  # the generator's Adam betas, e.g. [0.0, 0.9] (SNGAN)
    betas_d: list[float] | None = None  # the discriminator's
    lr_decay: str = "none"  # none, or linear: both rates fall linearly to 0 at the run's end
    # DiffAugment (Zhao et al. 2020) on everything D sees, real and generated: any subset of
    # "color,translation,cutout"; null (or "") for none.
    augment: str | None = None
    device: str = "auto"  # auto (CUDA when present), cpu, cuda, cuda:1 ...
    # Arithmetic of the forward passes: fp32; bf16 (autocast, no GradScaler; CPU or CUDA); fp16
    # (autocast with a GradScaler whose state is checkpointed; CUDA only).
    precision: str = "fp32"
    amp: bool = False  # the old name of precision: fp16 (kept so old configs still load)
    # torch.compile G, D and the loss once: false, true (mode "default"), or a mode such as
    # max-autotune, reduce-overhead (CUDA graphs) or max-autotune-no-cudagraphs.
    compile: Any = False
    # On CUDA, float32 matmuls and convolutions may use TF32 tensor cores (about 10 mantissa
    # bits, much faster on Ampere and later); false asks for full IEEE float32 arithmetic.
    tf32: bool = True
    # Decay of an exponential moving average of the generator's weights (e.g. 0.999), used for
    # the sample grids and evaluation and saved in checkpoints; null: no average.
    ema: float | None = None
    log_every: int = 50  # iterations between metrics.jsonl / TensorBoard scalars
    sample_every: int = 500  # iterations between fixed-noise sample grids
    num_samples: int = 64  # images in the sample grid (a square number looks best)
    checkpoint_every: int = 1000  # iterations between checkpoints (one is also written at the end)
    keep_checkpoints: int = 3  # how many recent checkpoints to keep
    progress: bool = True  # tqdm progress bar


@dataclass
class FinalEvalConfig:
    """The declared end-of-run protocol (``evaluation/suites/final.yaml``: 5,000 generated
    images against the whole training set). Off by default: on 2 CPU cores it costs about 7
    minutes a run (and 7 more once per dataset for the cached reference); the study configs
    switch it on. A run trained without it is scored later with ``ganzoo eval RUN --suite
    final``."""

    enabled: bool = False  # score the generator with the protocol when training ends
    suite: str = "final"  # a suite name or YAML path
    num_samples: int | None = None  # override the suite's generated count
    at: list[int] = field(default_factory=list)  # further declared iterations to score at


@dataclass
class EvalConfig:
    every: int | None = None  # iterations between evaluations during training; None: never
    suite: str = "smoke"  # a suite name from evaluation/suites or a YAML path
    num_samples: int | None = None  # override the suite's sample count
    inception_weights: str | None = None  # explicit path to the FID Inception weights
    final: FinalEvalConfig = field(default_factory=FinalEvalConfig)


@dataclass
class ExperimentConfig:
    name: str | None = None  # run name; defaults to the config file's name
    seed: int = 0
    architecture: str = "dcgan"
    data: DataConfig = field(default_factory=DataConfig)
    # Keyword arguments of the architecture's generator / discriminator constructors, e.g.
    # latent_dim, width, activation, activation_kwargs, layer_activations (one per hidden layer).
    generator: dict[str, Any] = field(default_factory=lambda: {"activation": "relu"})
    discriminator: dict[str, Any] = field(default_factory=lambda: {"activation": "leaky_relu"})
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


def load_config(
    path: str | Path | None = None,
    overrides: Sequence[str] = (),
    validate_values: bool = True,
    build: bool = True,
) -> ExperimentConfig:
    """Load ``path`` (YAML) onto the schema and apply ``key=value`` overrides; ``build`` as in
    :func:`validate`."""
    source = str(path) if path is not None else "the defaults"
    schema = OmegaConf.structured(ExperimentConfig)
    layers = [schema]
    if path is not None:
        layers.append(_checked_layer(read_yaml_mapping(Path(path)), lambda key: source))
    layers.append(
        _checked_layer(_parse_overrides(overrides), lambda key: _blame(key, source, overrides))
    )
    try:
        merged = OmegaConf.merge(*layers)
        config: ExperimentConfig = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or ""
        raise ConfigError(_explain(exc, _blame(key, source, overrides))) from None
    except TypeError as exc:  # a kind of value _checked_layer does not foresee
        raise ConfigError(f"a value in {source} or the overrides does not fit: {exc}") from None
    if config.name is None:  # the file's name, made valid ("my run.yaml" -> "my_run")
        stem = Path(path).stem if path is not None else "experiment"
        config.name = re.sub(r"[^\w.\-]+", "_", stem).strip("_") or "experiment"
    if validate_values:
        validate(config, source, overrides, build=build)
        _canonical_names(config)
    return config


def _canonical_names(config: ExperimentConfig) -> None:
    """Store the loss as the registry spells it ("Hinge" -> "hinge"), so runs given one name
    two ways are one group in a report."""
    from ganzoo.losses import LOSSES

    config.train.loss = LOSSES.canonical(config.train.loss)


def _checked_layer(data: dict[str, Any], where: Callable[[str], str]) -> Any:
    """One layer (the file's or the overrides') as an OmegaConf node, refused in plain words
    where a value has the wrong kind for its key (``where(key)`` names the value's origin).
    ``train.augment`` may be a list of policies (``[color, translation]``)."""
    train = data.get("train")
    if isinstance(train, dict) and isinstance(train.get("augment"), list | tuple):
        train["augment"] = ",".join(str(policy) for policy in train["augment"])
    problem = kind_problem(ExperimentConfig, data)
    if problem is not None:
        key, what = problem
        raise ConfigError(f"config key {key!r} in {where(key)}: {what}")
    return OmegaConf.create(data)


def _blame(key: str, source: str, overrides: Sequence[str]) -> str:
    """Where a key's value came from: the override that set it, else the file."""
    key = re.sub(r"\[\d+\]", "", key)  # train.betas_d[0] was set by train.betas_d=[...]
    for item in reversed(list(overrides)):
        set_key = item.split("=", 1)[0].strip()
        if key and (set_key == key or set_key.startswith(key + ".")):
            return f"the override {item!r} (on top of {source})"
    return source


def config_from_dict(data: dict[str, Any], source: str = "a checkpoint") -> ExperimentConfig:
    """Rebuild a config from its saved dict (a checkpoint's or a run directory's)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must hold a mapping of config keys, not {_kind_of(data)}")
    layer = _checked_layer(copy.deepcopy(data), lambda key: source)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ExperimentConfig), layer)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(_explain(exc, source)) from None
    except TypeError as exc:  # a kind of value _checked_layer does not foresee
        raise ConfigError(f"a value in {source} does not fit: {exc}") from None


def _kind_of(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def to_dict(config: ExperimentConfig) -> dict[str, Any]:
    """Plain containers (for YAML, JSON and checkpoints)."""
    return OmegaConf.to_container(OmegaConf.structured(config), resolve=True)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict as dotted keys: {"train": {"loss": "bce"}} -> {"train.loss": "bce"}."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def to_yaml(config: ExperimentConfig) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)


def read_yaml_mapping(path: Path, kind: str = "config file", needs: str = "data:, train:") -> dict:
    """The mapping a YAML file holds, or one ConfigError line saying what is wrong with the file
    (a directory, missing, invalid YAML with where, empty, not a mapping) and what it ``needs``."""
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.yaml"))[:3]
        hint = f" such as {path / found[0]}" if found else ""
        raise ConfigError(f"{kind} {path} is a directory; give the path of a YAML file{hint}")
    if not path.is_file():
        raise ConfigError(f"{kind} {path} does not exist; give the path of a YAML file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {_yaml_problem(exc)}") from None
    if data is None:
        raise ConfigError(f"{path} is empty; a {kind} needs at least {needs}")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} must hold a mapping of keys ({needs}, ...), not a {type(data).__name__}"
        )
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line report as one line: what was wrong, and where."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None:
        return " ".join(str(exc).split())
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"{problem}{where}" + (f" ({context})" if context else "")


def _parse_overrides(overrides: Sequence[str]) -> Any:
    for item in overrides:
        if "=" not in item or item.startswith("="):
            raise ConfigError(f"override {item!r} must look like key=value, e.g. train.epochs=5")
    try:
        return OmegaConf.to_container(OmegaConf.from_dotlist(list(overrides)))
    except OmegaConfBaseException as exc:
        raise ConfigError(f"cannot parse the overrides {list(overrides)}: {exc}") from None


def _explain(exc: OmegaConfBaseException, source: str) -> str:
    key = getattr(exc, "full_key", None)
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not key:  # OmegaConf could not tell which key: say so rather than naming key '?'
        return f"a value in {source} does not fit the config schema: {plain_message(first_line)}"
    if type(exc).__name__ == "ConfigKeyError":
        section = key.rsplit(".", 1)[0] if "." in key else None
        known = _known_keys(section)
        return (
            f"unknown config key {key!r} in {source}. Valid keys"
            f"{' in ' + section if section else ''}: {', '.join(known)}."
        )
    return f"bad value for config key {key!r} in {source}: {plain_message(first_line)}"


def _known_keys(section: str | None) -> list[str]:
    node: Any = ExperimentConfig()
    for part in (section or "").split(".") if section else []:
        node = getattr(node, part, None)
    return list(vars(node)) if node is not None and hasattr(node, "__dict__") else []


# -- value checks -----------------------------------------------------------------------------


def validate(
    config: ExperimentConfig,
    source: str = "the config",
    overrides: Sequence[str] = (),
    build: bool = True,
) -> None:
    """Refuse impossible values before any work starts; messages name the key and the file, or
    the override that set the key.

    ``build``: also build the loss and both networks (on the meta device: no memory, no
    compute), for what only their constructors check. ``ganzoo.train`` passes False: a run
    builds them for real once, before it reads data or writes anything
    (:func:`ganzoo.engine.factories.build_run_models`), with the same messages."""
    from ganzoo.architectures import get_architecture
    from ganzoo.data import dataset_info

    def fail(key: str, problem: str) -> None:
        raise ConfigError(f"config key {key!r} in {_blame(key, source, overrides)}: {problem}")

    t = config.train
    for key, value in [
        ("train.batch_size", t.batch_size),
        ("train.epochs", t.epochs),
        ("train.log_every", t.log_every),
        ("train.sample_every", t.sample_every),
        ("train.checkpoint_every", t.checkpoint_every),
        ("train.keep_checkpoints", t.keep_checkpoints),
        ("train.num_samples", t.num_samples),
        ("data.image_size", config.data.image_size),
    ]:
        if value < 1:
            fail(key, f"must be a positive whole number, got {value}")
    if t.n_critic < 1:
        fail("train.n_critic", f"must be 1 or more discriminator updates, got {t.n_critic}")
    if not t.r1_gamma >= 0 or not math.isfinite(t.r1_gamma):
        fail("train.r1_gamma", f"must be 0 (off) or a positive weight, got {t.r1_gamma}")
    for key, betas in [("train.betas_g", t.betas_g), ("train.betas_d", t.betas_d)]:
        if betas is not None and (len(betas) != 2 or not all(0 <= b < 1 for b in betas)):
            fail(key, f"must be two Adam betas in [0, 1), e.g. [0.0, 0.9], got {list(betas)}")
    if t.lr_decay not in LR_SCHEDULES:
        fail("train.lr_decay", f"must be one of {', '.join(LR_SCHEDULES)}, got {t.lr_decay!r}")
    if t.iterations is not None and t.iterations < 1:
        fail("train.iterations", f"must be positive (or null to use epochs), got {t.iterations}")
    for key, value in [("train.lr_g", t.lr_g), ("train.lr_d", t.lr_d)]:
        if not (value > 0 and math.isfinite(value)):
            fail(key, f"must be a positive, finite learning rate, got {value}")
    for key, value in [("train.beta1", t.beta1), ("train.beta2", t.beta2)]:
        if not 0 <= value < 1:
            fail(key, f"must be in [0, 1), got {value}")
    if t.ema is not None and not 0 < t.ema < 1:
        fail("train.ema", f"must be a decay in (0, 1) such as 0.999, or null for none, got {t.ema}")
    if config.data.num_workers < 0:
        fail("data.num_workers", f"must be 0 or more, got {config.data.num_workers}")
    if config.eval.every is not None and config.eval.every < 1:
        fail("eval.every", f"must be positive (or null for no evaluation), got {config.eval.every}")
    for key, problem in train_step_problems(t):
        fail(key, problem)
    final = config.eval.final
    if final.num_samples is not None and final.num_samples < 1:
        fail("eval.final.num_samples", f"must be positive (or null), got {final.num_samples}")
    if any(point < 1 for point in final.at):
        fail("eval.final.at", f"must list positive iterations, got {list(final.at)}")
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", t.device):
        fail("train.device", f"must be auto, cpu, cuda or cuda:N, got {t.device!r}")
    if not re.fullmatch(r"[\w.\-]+", config.name or ""):
        fail("name", f"must be letters, digits, '_', '-' or '.', got {config.name!r}")

    from evaluation import SuiteError, load_suite
    from ganzoo.augment import parse_policy

    def checked(key: str, check: Callable[[], Any]) -> Any:
        """``check()``'s result; its error is blamed on the override that set ``key``, or the
        file (the error's own words name the key)."""
        try:
            return check()
        except (GanzooError, SuiteError) as exc:
            raise ConfigError(f"{_blame(key, source, overrides)}: {exc}") from None

    if build:
        build_checked_loss(config, source, overrides)
    else:  # the name now; its options are checked where the run builds the loss
        from ganzoo.losses import LOSSES

        checked("train.loss", lambda: LOSSES.canonical(t.loss))
    policies = checked("train.augment", lambda: parse_policy(t.augment))
    info = checked("data.name", lambda: dataset_info(config.data.name))
    architecture = checked("architecture", lambda: get_architecture(config.architecture))
    try:
        load_suite(config.eval.suite)
    except SuiteError as exc:
        fail("eval.suite", str(exc))
    shape = data_shape(config, info)
    if policies and len(shape) != 3:
        fail(
            "train.augment",
            f"DiffAugment needs images, but {config.data.name!r} is {shape}-shaped data",
        )
    _check_classes(config, info, source)
    source_file = source
    for section, cls in [
        ("generator", architecture.generator),
        ("discriminator", architecture.discriminator),
    ]:
        kwargs = getattr(config, section)
        try:
            cls.check_data_shape(shape)
        except GanzooError as exc:  # the data's shape, not the network's options, is at fault
            set_by_override = [
                k for k in _SHAPE_KEYS if _blame(k, source_file, overrides) != source_file
            ]
            fail(
                (set_by_override or _SHAPE_KEYS)[0],
                f"for the {section} ({cls.__name__}), {exc}",
            )
        _check_constructor_keys(section, cls, kwargs, _blame(section, source_file, overrides))
        if build:  # checks the activation names, each per-layer entry and the widths
            with torch.device("meta"):  # no memory, no compute
                build_network(config, section, shape, source_file, overrides)


def build_network(
    config: ExperimentConfig,
    section: str,
    shape: tuple[int, ...],
    source: str = "the config",
    overrides: Sequence[str] = (),
) -> torch.nn.Module:
    """The ``section`` (generator or discriminator) of ``config.architecture`` for data of
    ``shape``, on torch's current default device. A failed build is a ConfigError naming the
    section and the file or override that set it."""
    from ganzoo.architectures import get_architecture

    cls = getattr(get_architecture(config.architecture), section)
    kwargs = getattr(config, section)
    section_source = _blame(section, source, overrides)
    try:
        return cls(data_shape=shape, **kwargs)
    except GanzooError as exc:
        raise ConfigError(f"{section} in {section_source}: {exc}") from None
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConfigError(
            f"cannot build the {section} ({cls.__name__}) from {section}: {kwargs} in "
            f"{section_source}: {exc}"
        ) from None


def build_checked_loss(
    config: ExperimentConfig, source: str = "the config", overrides: Sequence[str] = ()
) -> Any:
    """The run's loss (``train.loss`` with ``train.loss_kwargs``, plus R1 when
    ``train.r1_gamma`` > 0); a failed build is a ConfigError naming the key and where it was
    set."""
    from ganzoo.losses import build_loss

    t = config.train
    try:
        return build_loss(t.loss, t.loss_kwargs, t.r1_gamma)
    except GanzooError as exc:  # get_loss's words start with the key they are about
        key = "train.loss_kwargs" if str(exc).startswith("train.loss_kwargs") else "train.loss"
        raise ConfigError(f"{_blame(key, source, overrides)}: {exc}") from None


LR_SCHEDULES = ("none", "linear")
PRECISIONS = ("fp32", "bf16", "fp16")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def precision_of(t: TrainConfig) -> str:
    """The precision a run trains in: ``train.precision``, or fp16 where the old ``train.amp``
    is set (a conflicting pair is refused by :func:`validate`)."""
    return "fp16" if t.amp else t.precision


def compile_mode_of(t: TrainConfig) -> str | None:
    """The torch.compile mode ``train.compile`` asks for; None: no compilation."""
    if t.compile is False or t.compile in ("false", "none", None):
        return None
    return "default" if t.compile is True or t.compile == "true" else str(t.compile)


def train_step_problems(t: TrainConfig) -> list[tuple[str, str]]:
    """(key, problem) for each bad value among the training step's precision/compile keys."""
    problems = []
    if t.precision not in PRECISIONS:
        problems.append(
            ("train.precision", f"must be one of {', '.join(PRECISIONS)}, got {t.precision!r}")
        )
    elif t.amp and t.precision not in ("fp32", "fp16"):
        problems.append(
            (
                "train.amp",
                f"is the old name of train.precision=fp16 and conflicts with train.precision="
                f"{t.precision}; drop train.amp",
            )
        )
    if not (isinstance(t.compile, bool) or t.compile in (*COMPILE_MODES, "true", "false")):
        problems.append(
            (
                "train.compile",
                f"must be false, true or a torch.compile mode ({', '.join(COMPILE_MODES)}), "
                f"got {t.compile!r}",
            )
        )
    return problems


_SHAPE_KEYS = ("data.image_size", "data.channels", "data.name")  # what sets the data's shape


def _check_classes(config: ExperimentConfig, info: Any, source: str) -> None:
    """A conditional model needs labelled data whose labels fit its ``num_classes``."""
    counts = {
        section: getattr(config, section).get("num_classes", 0) or 0
        for section in ("generator", "discriminator")
    }
    if not any(counts.values()):
        return
    if counts["generator"] != counts["discriminator"]:
        raise ConfigError(
            f"config keys 'generator.num_classes' ({counts['generator']}) and "
            f"'discriminator.num_classes' ({counts['discriminator']}) in {source} differ; a "
            f"conditional GAN needs the same class count in both networks"
        )
    classes = counts["generator"]
    if getattr(info, "labelled", True) is False:
        raise ConfigError(
            f"config key 'generator.num_classes' in {source}: dataset {config.data.name!r} has "
            f"no labels, so a class-conditional model cannot train on it; use a labelled "
            f"dataset or num_classes: 0"
        )
    known = len(getattr(info, "classes", ()) or ())
    if known and isinstance(classes, int) and classes < known:
        raise ConfigError(
            f"config key 'generator.num_classes' in {source} is {classes} but dataset "
            f"{config.data.name!r} has {known} classes (labels 0..{known - 1}); set num_classes "
            f"to {known} in both networks"
        )


def data_shape(config: ExperimentConfig, info: Any) -> tuple[int, ...]:
    """The (C, H, W) (or flat) shape the networks produce and consume."""
    if getattr(info, "data_shape", None) is not None:  # non-image data, e.g. 2-D points
        return tuple(info.data_shape)
    channels = config.data.channels or info.channels
    return (channels, config.data.image_size, config.data.image_size)


def _check_constructor_keys(section: str, cls: type, kwargs: dict[str, Any], source: str) -> None:
    params = inspect.signature(cls).parameters
    accepted = [n for n in params if n not in ("self", "data_shape")]
    for key, value in kwargs.items():
        if key not in accepted:
            raise ConfigError(
                f"unknown config key '{section}.{key}' in {source}: {cls.__name__} accepts "
                f"{', '.join(accepted)}."
            )
        default = params[key].default
        expected = type(default) if default not in (None, inspect.Parameter.empty) else None
        if expected in (int, float, bool, str) and not _fits(value, expected):
            raise ConfigError(
                f"bad value for config key '{section}.{key}' in {source}: expected "
                f"{expected.__name__}, got {value!r}"
            )


def _fits(value: Any, expected: type) -> bool:
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)
