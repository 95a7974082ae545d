"""ganzoo.config: what load_config accepts, how it stores names, and how it words and blames
what it refuses (the key, what it wants, and the override or file that set it)."""

from __future__ import annotations

import pytest
import yaml

from ganzoo.config import config_from_dict, load_config, to_dict, to_yaml
from ganzoo.errors import ConfigError

BASE = {
    "data": {"name": "mnist5k", "image_size": 28},
    "generator": {"width": 8, "latent_dim": 8, "activation": "relu"},
    "discriminator": {"width": 8, "activation": "leaky_relu"},
}


@pytest.fixture
def base_file(tmp_path):
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(BASE))
    return path


def refusal(path, overrides=()) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, list(overrides))
    return str(info.value)


def test_augment_may_be_a_yaml_list_or_an_override_list(base_file, tmp_path):
    """`augment: [color, translation]` (once "Cannot convert 'ListConfig' to string") means
    the same as "color,translation", in a file and as an override, and is stored as text."""
    as_text = load_config(base_file, ["train.augment=color,translation"])
    as_override = load_config(base_file, ["train.augment=[color,translation]"])
    listed = tmp_path / "listed.yaml"
    listed.write_text(yaml.safe_dump({**BASE, "train": {"augment": ["color", "translation"]}}))
    from_file = load_config(listed)
    assert as_text.train.augment == as_override.train.augment == "color,translation"
    assert from_file.train.augment == "color,translation"
    assert "augment: color,translation" in to_yaml(from_file)
    assert "colour" in refusal(base_file, ["train.augment=[colour]"])  # still checked


@pytest.mark.parametrize("typed", ["Hinge", "HINGE", " hinge"])
def test_the_loss_is_stored_as_the_registry_spells_it(base_file, typed):
    """`Hinge` and `hinge` once became two groups in a report: the saved config holds the
    canonical name whatever the spelling given."""
    config = load_config(base_file, [f"train.loss={typed}"])
    assert config.train.loss == "hinge"
    assert to_dict(config)["train"]["loss"] == "hinge"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (
            ["train.loss_kwargs=[1,2]"],
            ["'train.loss_kwargs'", "the override 'train.loss_kwargs=[1,2]'", "a mapping"],
        ),
        (["generator=[1,2]"], ["'generator'", "the override 'generator=[1,2]'", "a mapping"]),
        (["train=5"], ["'train'", "the override 'train=5'", "a section of keys", "not 5"]),
        (["data.classes=automobile"], ["'data.classes'", "a list", "not 'automobile'"]),
        (["train.betas_d=5"], ["'train.betas_d'", "a list"]),
    ],
)
def test_a_container_of_the_wrong_kind_is_one_plain_line(base_file, overrides, words):
    """A list where a mapping belongs (once a TypeError "Cannot merge incompatible container
    types"), a number for a section (once key '?'), a scalar for a list (once "AnyNode is not a
    ListConfig"): the key, what it wants and the override that gave it, no OmegaConf words."""
    message = refusal(base_file, overrides)
    for word in words:
        assert word in message, (word, message)
    for jargon in ("'?'", "AnyNode", "ListConfig", "DictConfig", "Merge error"):
        assert jargon not in message, (jargon, message)


def test_a_section_given_a_list_in_the_file_is_blamed_on_the_file(tmp_path):
    """`train: [1, 2]` in YAML names the file and the key (once key '?')."""
    path = tmp_path / "listy.yaml"
    path.write_text(yaml.safe_dump({**BASE, "train": [1, 2]}))
    message = refusal(path)
    assert f"config key 'train' in {path}" in message and "a section of keys" in message


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (
            ["train.loss=wgan_gp", "train.loss_kwargs.gp_weight=abc"],
            ["the override 'train.loss_kwargs.gp_weight=abc'", "must be a number", "'abc'"],
        ),
        (
            ["train.betas_d=[a,b]"],
            ["'train.betas_d[0]'", "the override 'train.betas_d=[a,b]'", "expected a number"],
        ),
        (["eval.suite=smok"], ["'eval.suite'", "the override 'eval.suite=smok'", "smoke"]),
        (["train.epochs=abc"], ["'train.epochs'", "expected a whole number, got 'abc'"]),
        (["train.loss=hingee"], ["the override 'train.loss=hingee'", "Registered losses"]),
        (
            ["architecture=resnet", "data.image_size=20", "generator.width=8"],
            ["'data.image_size'", "the override 'data.image_size=20'", "28, 32, 48, 64"],
        ),
    ],
)
def test_the_override_at_fault_is_blamed_in_plain_words(base_file, overrides, words):
    """Each error names the override that set the bad value (once the config file, or
    `generator.width` for a resnet image size), without Python or OmegaConf jargon."""
    message = refusal(base_file, overrides)
    for word in words:
        assert word in message, (word, message)
    assert "generator.width" not in message
    assert f"{base_file}:" not in message  # not blamed on the file alone
    for jargon in ("not supported between", "could not be converted", "Float", "Integer"):
        assert jargon not in message, (jargon, message)


def test_a_saved_config_of_the_wrong_shape_is_refused_naming_it():
    """config_from_dict (a run's config.yaml, a checkpoint's copy) gives the same plain words
    and names its source."""
    with pytest.raises(ConfigError, match="config key 'generator' in runs/x/config.yaml"):
        config_from_dict({**BASE, "generator": [1, 2]}, "runs/x/config.yaml")
    with pytest.raises(ConfigError, match="runs/x/config.yaml must hold a mapping"):
        config_from_dict([1, 2], "runs/x/config.yaml")  # type: ignore[arg-type]
