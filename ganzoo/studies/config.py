"""Study configs (``configs/studies/*.yaml``): a base experiment, the factors to vary, the seeds,
where the runs go and the declared headline, read and checked in one pass; every problem is one
ConfigError naming the file. The format is in the README and docs/experiments.md.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evaluation.metrics import HIGHER_IS_BETTER, LOWER_IS_BETTER
from ganzoo.config import read_yaml_mapping
from ganzoo.errors import ConfigError
from ganzoo.experiments import grid

# A study's keys; "description" is for people and read by nothing.
STUDY_KEYS = ("base", "name", "out", "seeds", "overrides", "vary", "description", "headline")
REQUIRED_KEYS = ("base", "seeds", "vary")
HEADLINE_KEYS = ("metric", "point", "k", "baseline")
HEADLINE_POINTS = ("final", "last_k")
PER_RUN_KEYS = ("seed", "name")  # the study sets them for each run
_LABEL_BAD = re.compile(r"[^\w.\-]+")
_KEY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class StudyRun:
    """One combination of levels and one seed."""

    name: str  # e.g. psf_seed0; also the run's config name
    variant: str  # e.g. psf
    seed: int
    levels: dict[str, str]  # factor name -> level label
    overrides: list[str]  # key=value, study overrides then the levels', then seed and name


@dataclass(frozen=True)
class Headline:
    """The declared claim: a metric at an evaluation point (never a minimum) against a baseline."""

    metric: str
    point: str  # "final" or "last_k"
    baseline: str
    k: int | None = None


@dataclass
class Study:
    name: str
    source: Path
    base: Path
    out: Path
    seeds: list[int]
    factors: dict[str, dict[str, dict[str, Any]]]  # factor -> level label -> its overrides
    overrides: dict[str, Any] = field(default_factory=dict)
    headline: Headline | None = None

    @property
    def directory(self) -> Path:
        return self.out / self.name

    def runs(self) -> list[StudyRun]:
        """Every combination of levels with every seed, seed by seed (see :func:`grid`)."""
        runs = []
        for levels in grid(self.factors, self.seeds):  # {factor: label, ..., "seed": s}
            seed = levels.pop("seed")
            variant = "__".join(levels.values())
            name = f"{variant}_seed{seed}"
            merged = dict(self.overrides)
            for factor, label in levels.items():
                merged.update(self.factors[factor][label])
            merged.update(seed=seed, name=name)  # last: no override or level may set them
            overrides = [f"{k}={dotlist_value(v)}" for k, v in merged.items()]
            runs.append(StudyRun(name, variant, seed, levels, overrides))
        return runs

    def to_dict(self) -> dict[str, Any]:
        extra = {"headline": dataclasses.asdict(self.headline)} if self.headline else {}
        return {
            **extra,
            "name": self.name,
            "source": str(self.source),
            "base": str(self.base),
            "seeds": list(self.seeds),
            "overrides": dict(self.overrides),
            "factors": self.factors,
        }


class _Invalid(Exception):
    """A problem in a study file; :func:`load_study` names the file."""


def load_study(path: str | Path, out: str | Path | None = None) -> Study:
    """Read and strictly validate a study YAML; ``out`` replaces its ``out:`` when given."""
    path = Path(path)
    data = read_yaml_mapping(path, "study file", ", ".join(f"{k}:" for k in REQUIRED_KEYS))
    try:
        return _parse(data, path, out)
    except _Invalid as exc:
        raise ConfigError(f"study {path}: {exc}") from None


def _parse(data: dict[str, Any], source: Path, out: str | Path | None) -> Study:
    """The study ``data`` (a study file's mapping) describes, checked in one pass."""
    unknown = ", ".join(repr(k) for k in data if k not in STUDY_KEYS)
    if unknown:
        raise _Invalid(f"unknown key(s) {unknown}; valid keys: {', '.join(STUDY_KEYS)}")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise _Invalid(f"missing key(s) {', '.join(missing)}")
    if not isinstance(data["base"], str):
        raise _Invalid(f"'base' must be the path of an experiment config, got {data['base']!r}")
    base = source.parent / data["base"]  # an absolute base stays as it is
    if not base.is_file():
        raise _Invalid(f"base config {base} does not exist ('base' is relative to the study file)")
    name = data.get("name", source.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[\w.\-]+", name):
        raise _Invalid(f"'name' must be letters, digits, '_', '-' or '.', got {name!r}")
    seeds = _seeds(data["seeds"])
    overrides = _overrides(data.get("overrides") or {})
    for key in PER_RUN_KEYS:
        if key in overrides:
            raise _Invalid(f"'overrides' may not set {key!r}: the study sets it for each run")
    vary = data["vary"]
    if not isinstance(vary, dict) or not vary:
        raise _Invalid("'vary' must be a non-empty mapping of factors (see the README)")
    factors = {str(name): _factor(str(name), spec) for name, spec in vary.items()}
    varied_by: dict[str, str] = {}
    for factor, levels in factors.items():
        for key in next(iter(levels.values())):  # every level sets the same keys
            if key in PER_RUN_KEYS:
                raise _Invalid(f"factor {factor!r} may not vary {key!r}; use 'seeds' for seeds")
            if key in varied_by:
                raise _Invalid(
                    f"key {key!r} is varied by both factors {varied_by[key]!r} and {factor!r}"
                )
            varied_by[key] = factor
        if factor == "seed":  # the grid's name for the seed
            raise _Invalid("no factor may be named 'seed'; use 'seeds' for seeds")
    out = Path(out if out is not None else data.get("out", "runs/studies"))
    study = Study(name, source, base, out, seeds, factors, overrides)
    if data.get("headline") is not None:
        variants = list(dict.fromkeys(run.variant for run in study.runs()))
        study.headline = _headline(data["headline"], variants)
    return study


def _seeds(seeds: Any) -> list[int]:
    """``seeds``: a count N (0..N-1) or a non-empty list of distinct integers."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise _Invalid(f"'seeds' as a count must be at least 1, got {seeds}")
        seeds = list(range(seeds))
    if not isinstance(seeds, list) or not seeds or not all(_integer(s) for s in seeds):
        raise _Invalid(f"'seeds' must be a count or a non-empty list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise _Invalid(f"'seeds' has duplicates: {seeds}")
    return seeds


def _headline(spec: Any, variants: list[str]) -> Headline:
    """The ``headline:`` mapping, checked: a quality metric, a declared point, a known level."""
    if not isinstance(spec, dict) or set(spec) - set(HEADLINE_KEYS):
        raise _Invalid(
            "'headline' must be a mapping of metric, point, k (with last_k) and baseline"
        )
    metrics = sorted(LOWER_IS_BETTER | HIGHER_IS_BETTER)
    if spec.get("metric") not in metrics:
        raise _Invalid(
            f"headline metric must be one of {', '.join(metrics)}, got {spec.get('metric')!r}"
        )
    point, k = spec.get("point", "final"), spec.get("k")
    if point not in HEADLINE_POINTS:
        raise _Invalid(
            f"headline point must be {' or '.join(HEADLINE_POINTS)} (never a minimum over "
            f"training), got {point!r}"
        )
    if point == "last_k" and not (_integer(k) and k >= 1):
        raise _Invalid(
            f"headline point last_k needs k, a positive number of evaluations, got {k!r}"
        )
    if spec.get("baseline") not in variants:
        raise _Invalid(
            f"headline baseline must be one of the levels {', '.join(variants)}, got "
            f"{spec.get('baseline')!r}"
        )
    return Headline(spec["metric"], point, spec["baseline"], k if point == "last_k" else None)


def _overrides(value: Any) -> dict[str, Any]:
    """Overrides from a mapping or a list of ``key=value`` strings, keys checked."""
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str) or "=" not in item or item.startswith("="):
                raise _Invalid(f"override {item!r} must look like key=value")
        pairs = (item.split("=", 1) for item in value)
        value = {key.strip(): yaml.safe_load(raw) if raw else "" for key, raw in pairs}
    if not isinstance(value, dict):
        raise _Invalid(f"'overrides' must be a mapping or a list of key=value, got {value!r}")
    return {_key(k): v for k, v in value.items()}


def _key(key: Any) -> str:
    if not _KEY.match(str(key)):
        raise _Invalid(f"{str(key)!r} is not a dotted config key like generator.activation")
    return str(key)


def _factor(name: str, spec: Any) -> dict[str, dict[str, Any]]:
    """One factor's levels (label -> overrides) from a key's values, tied keys or named levels."""
    if isinstance(spec, list):  # generator.activation: [psf, leaky_relu]
        if not spec:
            raise _Invalid(f"factor {name!r} has no values")
        levels = [(_label(v), {_key(name): v}) for v in spec]
    elif isinstance(spec, dict) and spec and all(isinstance(v, list) for v in spec.values()):
        lengths = {len(v) for v in spec.values()}
        if len(lengths) != 1 or 0 in lengths:
            raise _Invalid(
                f"factor {name!r} ties keys that vary together, so their value lists need the "
                f"same non-zero length; got { ({k: len(v) for k, v in spec.items()}) }"
            )
        keys = [_key(k) for k in spec]
        levels = [(_label(row[0]), dict(zip(keys, row))) for row in zip(*spec.values())]
    elif isinstance(spec, dict) and spec and all(isinstance(v, dict) for v in spec.values()):
        levels = []
        for label, overrides in spec.items():
            if not overrides:
                raise _Invalid(f"level {label!r} of factor {name!r} sets no keys")
            if _label(label) != str(label):
                raise _Invalid(
                    f"level name {label!r} of factor {name!r}: use letters, digits, '_', '-', '.'"
                )
            levels.append((str(label), {_key(k): v for k, v in overrides.items()}))
        if len({frozenset(overrides) for _, overrides in levels}) != 1:
            raise _Invalid(f"every level of factor {name!r} must set the same keys")
    else:
        raise _Invalid(
            f"factor {name!r} must be a list of values (key: [a, b]), a mapping of keys to "
            f"equally long lists (tied keys), or a mapping of level names to overrides; "
            f"got {spec!r}"
        )
    labels = [label for label, _ in levels]
    if len(set(labels)) != len(labels):
        raise _Invalid(f"factor {name!r} has repeated levels: {labels}")
    return dict(levels)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _label(value: Any) -> str:
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True)
    text = _LABEL_BAD.sub("-", str(text).strip()).strip("-")
    return text or "empty"


def dotlist_value(value: Any) -> str:
    """A value as OmegaConf's dotlist parser reads it back (YAML flow style)."""
    if isinstance(value, str):
        return value
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6)
    return "\n".join(line for line in text.splitlines() if line.strip() != "...").strip()
