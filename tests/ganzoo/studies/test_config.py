"""Study configs: the three forms of a factor, the runs they expand to, and strict errors."""

from __future__ import annotations

import pytest

from ganzoo.config import load_config
from ganzoo.errors import ConfigError
from ganzoo.studies import load_study


def test_tied_keys_vary_together_and_runs_are_seed_major(tmp_path, write_study):
    """Tied keys give one factor with 2 levels (not 4 combinations), runs are ordered seed by
    seed, named <level>_seed<k>, and each run's overrides resolve to the intended config."""
    path = write_study(
        seeds=2,
        overrides={"train.iterations": 5},
        vary={
            "activation": {
                "generator.activation": ["psf", "leaky_relu"],
                "discriminator.activation": ["psf", "leaky_relu"],
                "generator.activation_kwargs": [{"alpha_init": 0.5}, {"negative_slope": 0.1}],
            }
        },
    )
    study = load_study(path)
    runs = study.runs()
    assert [r.name for r in runs] == [
        "psf_seed0",
        "leaky_relu_seed0",
        "psf_seed1",
        "leaky_relu_seed1",
    ]
    assert study.directory == tmp_path / "studies" / "study"
    config = load_config(study.base, runs[3].overrides)
    assert (config.seed, config.name, config.train.iterations) == (1, "leaky_relu_seed1", 5)
    assert config.generator["activation"] == "leaky_relu"
    assert config.discriminator["activation"] == "leaky_relu"
    assert config.generator["activation_kwargs"] == {"negative_slope": 0.1}
    psf = load_config(study.base, runs[0].overrides)
    assert psf.generator["activation_kwargs"] == {"alpha_init": 0.5}


def test_independent_factors_and_named_levels_make_the_product(tmp_path, write_study):
    """Two factors (a list and named levels) give every combination, labels joined by '__'."""
    path = write_study(
        seeds=[3],
        vary={
            "train.loss": ["bce", "hinge"],
            "act": {
                "p": {"generator.activation": "psf", "discriminator.activation": "psf"},
                "e": {"generator.activation": "elu", "discriminator.activation": "elu"},
            },
        },
    )
    runs = load_study(path).runs()
    assert [r.name for r in runs] == [
        "bce__p_seed3",
        "bce__e_seed3",
        "hinge__p_seed3",
        "hinge__e_seed3",
    ]
    assert runs[2].levels == {"train.loss": "hinge", "act": "p"}
    config = load_config(load_study(path).base, runs[2].overrides)
    assert (config.train.loss, config.discriminator["activation"]) == ("hinge", "psf")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"vary": {"train.loss": ["bce"]}, "sede": 1}, "unknown key(s) 'sede'"),
        ({"vary": {"train.loss": ["bce"]}, "base": "missing.yaml"}, "does not exist"),
        (
            {"vary": {"x": {"generator.activation": ["psf", "elu"], "train.loss": ["bce"]}}},
            "same non-zero length",
        ),
        ({"vary": {"train.loss": ["bce", "bce"]}}, "repeated levels"),
        ({"vary": {"seed": [1, 2]}}, "use 'seeds'"),
        ({"vary": {"seed": {"a": {"train.loss": "bce"}}}}, "no factor may be named 'seed'"),
        ({"vary": {"train.loss": ["bce"]}, "seeds": [1, 1]}, "duplicates"),
        ({"vary": {"train.loss": ["bce"]}, "seeds": 0}, "at least 1"),
        (
            {"vary": {"train.loss": ["bce"], "a": {"l": {"train.loss": "hinge"}}}},
            "varied by both factors",
        ),
        ({"vary": {"train.loss": "bce"}}, "must be a list of values"),
        ({"vary": {"train.loss": ["bce"]}, "overrides": ["train.iterations"]}, "key=value"),
    ],
)
def test_bad_studies_are_refused_with_the_reason(write_study, fields, message):
    """Each malformed study is a ConfigError naming the study file and the problem."""
    path = write_study(**fields)
    with pytest.raises(ConfigError) as error:
        load_study(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_missing_required_keys_and_missing_file(tmp_path):
    """A study without vary/seeds, and a study path that does not exist, are clear errors."""
    path = tmp_path / "s.yaml"
    path.write_text("base: x.yaml\n")
    with pytest.raises(ConfigError, match="missing key"):
        load_study(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_study(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", ["paper_mnist", "paper_cifar_cars", "quick_mnist"])
def test_shipped_studies_resolve_psf_against_leaky_relu(name):
    """The project's study files load, compare PSF with LeakyReLU in both networks, 3 seeds."""
    study = load_study(f"configs/studies/{name}.yaml")
    runs = study.runs()
    assert study.seeds == [0, 1, 2]
    assert sorted({r.variant for r in runs}) == ["leaky_relu", "psf"]
    for run in runs:
        config = load_config(study.base, run.overrides, validate_values=False)
        assert config.generator["activation"] == config.discriminator["activation"] == run.variant
