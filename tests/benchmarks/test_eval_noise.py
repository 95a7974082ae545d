"""benchmarks/eval_noise.py's statistics on synthetic features with known behaviour: the
repeats are disjoint slices of the generated pool, FID's bias and spread shrink with the count,
and the bias is measured against the largest count on the whole reference."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "eval_noise.py"


@pytest.fixture(scope="module")
def noise():
    spec = importlib.util.spec_from_file_location("eval_noise", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_repeats_are_what_the_pool_allows(noise):
    """A pool of 2,000 gives 10 slices of 200 and 2 of 1,000; none of 5,000."""
    assert noise.repeats_for(200, 10, 2000) == 10
    assert noise.repeats_for(1000, 10, 2000) == 2
    assert noise.repeats_for(5000, 10, 2000) == 0


def test_fid_bias_and_spread_fall_with_the_count(noise):
    """Generated and reference features from the same 8-d Gaussian: the true FID is 0, so
    every measured FID is bias. At 40 samples it is larger, and varies more over repeats, than
    at 240; the bias column is relative to the 240-sample whole-reference mean (0 there)."""
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(240, 8))
    pool = rng.normal(size=(1440, 8))
    settings = noise.ScoreSettings(kid_subset_size=20, kid_subsets=5)
    result = noise.measure(pool, reference, [40, 240], repeats=6, settings=settings)
    whole = result["scores"]["whole"]
    small, large = whole["40"]["fid"], whole["240"]["fid"]
    assert small["n"] == 6 and large["n"] == 6
    assert small["mean"] > 2 * large["mean"] > 0
    assert small["std"] > large["std"]
    assert large["bias"] == pytest.approx(0.0, abs=1e-12)
    assert small["bias"] == pytest.approx(small["mean"] - large["mean"])
    # n vs n subsets at the full count are the whole reference: the same numbers.
    assert result["scores"]["subset"]["240"]["fid"]["values"] == pytest.approx(large["values"])
    # FID falls like 1/n: the extrapolation to infinite n is closer to 0 than either mean.
    assert abs(result["fid_inf"]["value"]) < large["mean"]
    assert "whole" in noise.format_summary(result)


def test_adjacent_differences_from_records(noise, tmp_path):
    """Two runs whose last two FIDs differ by +3 and -4: RMS = sqrt((9 + 16) / 2) = 3.536,
    one evaluation's sd = RMS / sqrt(2) = 2.5; earlier evaluations and training lines are
    ignored."""
    import json

    for name, fids in (("a", [90.0, 60.0, 63.0]), ("b", [80.0, 70.0, 66.0])):
        run = tmp_path / name
        run.mkdir()
        lines = [{"iteration": 1, "loss_d": 1.0}]
        lines += [{"iteration": i, "eval": {"fid": f}} for i, f in enumerate(fids, 2)]
        (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = noise.adjacent_differences(tmp_path, ("fid",))
    assert result["runs"] == 2
    assert result["fid"]["rms"] == pytest.approx(np.sqrt(12.5))
    assert result["fid"]["sd_one_evaluation"] == pytest.approx(2.5)


def test_merging_two_runs_equals_one_run_over_all_counts(noise):
    """The small count scored in one run and the large count in a later one, merged, give the
    summary of one run over both counts (the repeats are the same slices of the pool): the
    bias of the small count is against the large count's mean, which neither run alone has;
    results on references of different sizes are refused."""
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(240, 8))
    pool = rng.normal(size=(720, 8))
    settings = noise.ScoreSettings(kid_subset_size=20, kid_subsets=5)
    small = noise.measure(pool, reference, [40], repeats=4, settings=settings)
    large = noise.measure(pool, reference, [240], repeats=3, settings=settings)
    both = noise.measure(pool, reference, [40, 240], repeats=4, settings=settings)
    assert both["scores"]["whole"]["240"]["fid"]["n"] == 3
    merged = noise.merge_results([small, large])
    assert merged["scores"] == both["scores"]
    assert merged["fid_inf"] == pytest.approx(both["fid_inf"])
    assert small["scores"]["whole"]["40"]["fid"]["bias"] == pytest.approx(0.0, abs=1e-12)
    assert merged["scores"]["whole"]["40"]["fid"]["bias"] > 0
    with pytest.raises(ValueError, match="different references"):
        noise.merge_results([small, noise.measure(pool, reference[:120], [40], 2, settings)])
