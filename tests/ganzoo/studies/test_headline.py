"""A study declares its headline (metric, evaluation point, baseline) before it runs; a
minimum over training or an unknown level is refused, and the report shows the headline."""

from __future__ import annotations

import json

import pytest

from ganzoo.errors import ConfigError
from ganzoo.studies.config import Headline, load_study

VARY = {"act": {"psf": {"generator.activation": "psf"}, "lrelu": {"generator.activation": "elu"}}}


def test_declared_headline_is_kept_in_the_study_record(write_study):
    """metric, point and baseline are read, and recorded in study.json's study entry."""
    path = write_study(
        vary=VARY, headline={"metric": "fid", "point": "last_k", "k": 3, "baseline": "lrelu"}
    )
    study = load_study(path)
    assert study.headline == Headline(metric="fid", point="last_k", baseline="lrelu", k=3)
    assert study.to_dict()["headline"] == {
        "metric": "fid",
        "point": "last_k",
        "baseline": "lrelu",
        "k": 3,
    }
    assert "headline" not in load_study(write_study(vary=VARY)).to_dict()


@pytest.mark.parametrize(
    ("headline", "message"),
    [
        ({"metric": "fid", "point": "best", "baseline": "lrelu"}, "never a minimum"),
        ({"metric": "fid", "point": "final", "baseline": "relu"}, "one of the levels psf, lrelu"),
        ({"metric": "kid_std", "point": "final", "baseline": "lrelu"}, "headline metric"),
        ({"metric": "fid", "point": "last_k", "baseline": "lrelu"}, "needs k"),
    ],
)
def test_bad_headlines_are_refused_with_the_reason(write_study, headline, message):
    """Each bad declaration is a ConfigError naming what is wrong."""
    with pytest.raises(ConfigError, match=message):
        load_study(write_study(vary=VARY, headline=headline))


def test_report_puts_the_declared_headline_first(tmp_path):
    """A study whose study.json declares fid at the mean of the last 2 evaluations against
    lrelu gets a headline section with that row: psf's mean of its last two FIDs, and its
    difference from lrelu; the baseline comes from the declaration."""
    from ganzoo.report import write_report

    study = tmp_path / "study"
    entries = {}
    for activation, last in (("psf", [40.0, 30.0]), ("elu", [50.0, 44.0])):
        for seed in (0, 1, 2):
            run = study / "runs" / f"{activation}_seed{seed}" / "20260101-000000"
            (run / "checkpoints").mkdir(parents=True)
            config = {
                "name": f"{activation}_seed{seed}",
                "seed": seed,
                "data": {"name": "mnist5k", "image_size": 28},
                "train": {"iterations": 30},
                "generator": {"activation": activation},
                "discriminator": {"activation": activation},
            }
            (run / "config.yaml").write_text(json.dumps(config))
            lines = [
                {"iteration": i, "epoch": 1, "eval": {"fid": v + seed * (activation == "psf")}}
                for i, v in zip((10, 20, 30), [60.0, *last])
            ]
            (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
            entries[f"{activation}_seed{seed}"] = {
                "levels": {"act": activation},
                "run_dir": str(run.relative_to(study)),
            }
    headline = {"metric": "fid", "point": "last_k", "k": 2, "baseline": "elu"}
    (study / "study.json").write_text(
        json.dumps({"study": {"headline": headline}, "runs": entries})
    )
    text = write_report([study], tmp_path / "out").read_text()
    assert text.index("## Headline") < text.index("## Summary")
    assert "**fid** at the mean of the last 2 periodic evaluations, against **elu**" in text
    # psf: mean of (40, 30) + seed = 35, 36, 37 -> 36; elu: 47; difference -11 at every seed
    # plus the seed term (-12, -11, -10): mean -11.
    row = next(line for line in text.splitlines() if line.startswith("| psf | 36 "))
    assert "| -11 [" in row
