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


def _study_with_headline(tmp_path, baseline="elu"):
    """psf and elu at seeds 0-2, FIDs at 3 points; study.json declares fid at the mean of the
    last 2 evaluations against ``baseline``."""
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
    headline = {"metric": "fid", "point": "last_k", "k": 2, "baseline": baseline}
    (study / "study.json").write_text(
        json.dumps({"study": {"headline": headline}, "runs": entries})
    )
    return study


def test_report_puts_the_declared_headline_first(tmp_path):
    """A study whose study.json declares fid at the mean of the last 2 evaluations against
    elu gets a headline section with that row: psf's mean of its last two FIDs, and its
    difference from elu; the baseline comes from the declaration."""
    from ganzoo.report import write_report

    text = write_report([_study_with_headline(tmp_path)], tmp_path / "out").read_text()
    assert text.index("## Headline") < text.index("## Summary")
    assert "|\n\n## Summary\n" in text  # the headline table ends before the next heading
    assert "**fid** at the mean of the last 2 periodic evaluations, against **elu**" in text
    # psf: mean of (40, 30) + seed = 35, 36, 37 -> 36; elu: 47; difference -11 at every seed
    # plus the seed term (-12, -11, -10): mean -11.
    row = next(line for line in text.splitlines() if line.startswith("| psf | 36 "))
    assert "| -11 [" in row


def test_headline_keeps_its_declared_baseline_when_the_report_compares_with_another(tmp_path):
    """--baseline psf changes the full table's comparisons, not the declared headline: it still
    tests psf against elu (-11), and says elu is its baseline."""
    from ganzoo.report import write_report

    text = write_report(
        [_study_with_headline(tmp_path)], tmp_path / "out", baseline="psf"
    ).read_text()
    headline = text[text.index("## Headline") : text.index("## Summary")]
    assert "against **elu**" in headline
    row = next(line for line in headline.splitlines() if line.startswith("| psf | 36 "))
    assert "| -11 [" in row
    assert "| elu | 47 ± 0 (3) | baseline |" in headline
    assert "mean(**psf**)" in text[text.index("## Summary") :]  # the full table: against psf


def test_headline_whose_baseline_is_not_among_the_runs_is_not_tested(tmp_path):
    """A report of runs without the declared baseline says the headline cannot be tested
    there, instead of printing another comparison under the declared name."""
    from ganzoo.report import write_report

    study = _study_with_headline(tmp_path, baseline="leaky_relu")
    text = write_report([study], tmp_path / "out", baseline="elu").read_text()
    headline = text[text.index("## Headline") : text.index("## Summary")]
    assert "Not tested here: the declared baseline 'leaky_relu'" in headline
    assert "| psf |" not in headline
