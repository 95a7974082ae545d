"""Study configs: a base experiment, the factors to vary, the seeds, and where runs go.

A study YAML (``configs/studies/*.yaml``)::

    headline:                       # optional: the claim, declared before anything runs
      metric: fid                   # a quality metric (fid, kid_mean, precision, recall...)
      point: final                  # final (the final protocol, eval/final.json) or last_k
      k: 3                          # with last_k: the mean of the last k periodic evaluations
      baseline: leaky_relu          # the level every other is compared with

    base: ../quickstart.yaml        # the experiment config; relative to this file
    name: quick_mnist               # optional; defaults to the file's stem
    out: runs/studies               # the study directory is <out>/<name>
    seeds: [0, 1, 2]                # or a count: 3 means [0, 1, 2]
    overrides:                      # applied to every run (a mapping or a key=value list)
      train.iterations: 800
    vary:
      # A factor with one config key and its values: the label of a level is the value.
      train.loss: [bce, hinge]
      # A factor whose keys vary together (zipped), labelled by the first key's values:
      activation:
        generator.activation: [psf, leaky_relu]
        discriminator.activation: [psf, leaky_relu]
      # A factor with named levels, each a mapping of overrides:
      act:
        psf: {generator.activation: psf, discriminator.activation: psf}
        lrelu: {generator.activation: leaky_relu, discriminator.activation: leaky_relu}

Runs are every combination of the factors' levels, times the seeds. A run's name is its
levels' labels joined by ``__`` and ``_seed<k>``, e.g. ``psf_seed0``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ganzoo.errors import ConfigError

STUDY_KEYS = ("base", "name", "out", "seeds", "overrides", "vary", "description", "headline")
HEADLINE_POINTS = ("final", "last_k")
REQUIRED_KEYS = ("base", "seeds", "vary")
_LABEL_BAD = re.compile(r"[^\w.\-]+")
_KEY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class Level:
    """One value of a factor: its label and the overrides it applies."""

    label: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Factor:
    name: str
    levels: tuple[Level, ...]


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
    """The study's declared claim: which metric, at which evaluation point, against which
    baseline. Never a minimum over training."""

    metric: str
    point: str  # "final" or "last_k"
    baseline: str
    k: int | None = None

    @property
    def row(self) -> str:
        """The summary table's row it names (see ganzoo.report.stats.run_summary)."""
        if self.point == "final":
            return f"{self.metric} (eval final)"
        return f"{self.metric} (mean of last {self.k} periodic evals)"


@dataclass
class Study:
    name: str
    source: Path
    base: Path
    out: Path
    seeds: list[int]
    factors: list[Factor]
    overrides: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    headline: Headline | None = None

    @property
    def directory(self) -> Path:
        return self.out / self.name

    def runs(self) -> list[StudyRun]:
        """Every combination of levels with every seed, seed by seed (all variants of the first
        seed, then of the next...), so a study stopped early still has complete pairs."""
        runs = []
        for seed in self.seeds:
            for combo in itertools.product(*(f.levels for f in self.factors)):
                variant = "__".join(level.label for level in combo)
                merged: dict[str, Any] = dict(self.overrides)
                for level in combo:
                    merged.update(level.overrides)
                name = f"{variant}_seed{seed}"
                items = [f"{k}={dotlist_value(v)}" for k, v in merged.items()]
                runs.append(
                    StudyRun(
                        name=name,
                        variant=variant,
                        seed=seed,
                        levels={f.name: lv.label for f, lv in zip(self.factors, combo)},
                        overrides=[*items, f"seed={seed}", f"name={name}"],
                    )
                )
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
            "factors": {
                f.name: {lv.label: dict(lv.overrides) for lv in f.levels} for f in self.factors
            },
        }


def load_study(path: str | Path, out: str | Path | None = None) -> Study:
    """Read and strictly validate a study YAML; ``out`` replaces its ``out:`` when given."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"study file {path} does not exist; give the path of a study YAML")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} must hold a mapping with {', '.join(REQUIRED_KEYS)} (see configs/studies/)"
        )
    return study_from_dict(data, path, out)


def study_from_dict(data: dict[str, Any], source: Path, out: str | Path | None = None) -> Study:
    def fail(problem: str) -> None:
        raise ConfigError(f"study {source}: {problem}")

    unknown = [k for k in data if k not in STUDY_KEYS]
    if unknown:
        fail(f"unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(STUDY_KEYS)}")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        fail(f"missing key(s) {', '.join(missing)}")

    if not isinstance(data["base"], str):
        fail(f"'base' must be the path of an experiment config, got {data['base']!r}")
    base = Path(data["base"])
    if not base.is_absolute():
        base = source.parent / base
    if not base.is_file():
        fail(f"base config {base} does not exist ('base' is relative to the study file)")

    name = data.get("name", source.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[\w.\-]+", name):
        fail(f"'name' must be letters, digits, '_', '-' or '.', got {name!r}")
    out_dir = Path(out if out is not None else data.get("out", "runs/studies"))

    seeds = data["seeds"]
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            fail(f"'seeds' as a count must be at least 1, got {seeds}")
        seeds = list(range(seeds))
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        fail(f"'seeds' must be a count or a non-empty list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        fail(f"'seeds' has duplicates: {seeds}")

    overrides = _parse_overrides(data.get("overrides") or {}, fail)
    for key in ("seed", "name"):
        if key in overrides:
            fail(f"'overrides' may not set {key!r}: the study sets it for each run")

    vary = data["vary"]
    if not isinstance(vary, dict) or not vary:
        fail("'vary' must be a non-empty mapping of factors (see the module docstring)")
    factors = [_parse_factor(str(name), spec, fail) for name, spec in vary.items()]
    seen: dict[str, str] = {}
    for factor in factors:
        keys = {k for level in factor.levels for k in level.overrides}
        for key in keys:
            if key in ("seed", "name"):
                fail(f"factor {factor.name!r} may not vary {key!r}; use 'seeds' for seeds")
            if key in seen:
                fail(f"key {key!r} is varied by both factors {seen[key]!r} and {factor.name!r}")
            seen[key] = factor.name

    description = data.get("description", "")
    headline = _parse_headline(data.get("headline"), factors, fail)
    return Study(
        name=name,
        source=source,
        base=base,
        out=out_dir,
        seeds=seeds,
        factors=factors,
        overrides=overrides,
        description=str(description),
        headline=headline,
    )


def _parse_headline(spec: Any, factors: list[Factor], fail) -> Headline | None:
    """The ``headline:`` mapping, checked: a quality metric, a declared point, a known level."""
    if spec is None:
        return None
    from evaluation.metrics import HIGHER_IS_BETTER, LOWER_IS_BETTER

    if not isinstance(spec, dict) or set(spec) - {"metric", "point", "k", "baseline"}:
        fail("'headline' must be a mapping of metric, point, k (with last_k) and baseline")
    metrics = sorted(LOWER_IS_BETTER | HIGHER_IS_BETTER)
    if spec.get("metric") not in metrics:
        fail(f"headline metric must be one of {', '.join(metrics)}, got {spec.get('metric')!r}")
    point = spec.get("point", "final")
    if point not in HEADLINE_POINTS:
        fail(
            f"headline point must be {' or '.join(HEADLINE_POINTS)} (never a minimum over "
            f"training), got {point!r}"
        )
    k = spec.get("k")
    if point == "last_k" and not (isinstance(k, int) and not isinstance(k, bool) and k >= 1):
        fail(f"headline point last_k needs k, a positive number of evaluations, got {k!r}")
    labels = [
        "__".join(lv.label for lv in combo)
        for combo in itertools.product(*(f.levels for f in factors))
    ]
    if spec.get("baseline") not in labels:
        fail(
            f"headline baseline must be one of the levels {', '.join(labels)}, got "
            f"{spec.get('baseline')!r}"
        )
    return Headline(spec["metric"], point, spec["baseline"], k if point == "last_k" else None)


def _parse_overrides(value: Any, fail) -> dict[str, Any]:
    if isinstance(value, list):
        parsed = {}
        for item in value:
            if not isinstance(item, str) or "=" not in item or item.startswith("="):
                fail(f"override {item!r} must look like key=value")
            key, raw = item.split("=", 1)
            parsed[key.strip()] = yaml.safe_load(raw) if raw else ""
        value = parsed
    if not isinstance(value, dict):
        fail(f"'overrides' must be a mapping or a list of key=value, got {value!r}")
    for key in value:
        _check_key(str(key), fail)
    return {str(k): v for k, v in value.items()}


def _check_key(key: str, fail) -> None:
    if not _KEY.match(key):
        fail(f"{key!r} is not a dotted config key like generator.activation")


def _parse_factor(name: str, spec: Any, fail) -> Factor:
    """One factor from its three forms: values of a key, zipped keys, or named levels."""
    if isinstance(spec, list):  # generator.activation: [psf, leaky_relu]
        _check_key(name, fail)
        if not spec:
            fail(f"factor {name!r} has no values")
        levels = [Level(_label(v), {name: v}) for v in spec]
    elif isinstance(spec, dict) and spec and all(isinstance(v, list) for v in spec.values()):
        lengths = {len(v) for v in spec.values()}
        if len(lengths) != 1 or 0 in lengths:
            fail(
                f"factor {name!r} ties keys that vary together, so their value lists need the "
                f"same non-zero length; got { ({k: len(v) for k, v in spec.items()}) }"
            )
        for key in spec:
            _check_key(str(key), fail)
        first = next(iter(spec.values()))
        levels = [
            Level(_label(first[i]), {str(k): v[i] for k, v in spec.items()})
            for i in range(lengths.pop())
        ]
    elif isinstance(spec, dict) and spec and all(isinstance(v, dict) for v in spec.values()):
        levels = []
        for label, overrides in spec.items():
            if not overrides:
                fail(f"level {label!r} of factor {name!r} sets no keys")
            if _label(label) != str(label):
                fail(f"level name {label!r} of factor {name!r}: use letters, digits, '_', '-', '.'")
            for key in overrides:
                _check_key(str(key), fail)
            levels.append(Level(str(label), {str(k): v for k, v in overrides.items()}))
        keysets = {frozenset(lv.overrides) for lv in levels}
        if len(keysets) != 1:
            fail(f"every level of factor {name!r} must set the same keys")
    else:
        fail(
            f"factor {name!r} must be a list of values (key: [a, b]), a mapping of keys to "
            f"equally long lists (tied keys), or a mapping of level names to overrides; "
            f"got {spec!r}"
        )
    labels = [lv.label for lv in levels]
    if len(set(labels)) != len(labels):
        fail(f"factor {name!r} has repeated levels: {labels}")
    return Factor(name, tuple(levels))


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
