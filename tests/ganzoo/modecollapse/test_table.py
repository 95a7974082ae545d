import csv
import math

import pytest

from ganzoo.modecollapse.table import Stat, format_markdown, format_text, summarize, write_csv


def _record(activation, modes, hq, kl):
    return {
        "activation": activation,
        "modes_covered": modes,
        "high_quality_fraction": hq,
        "reverse_kl": kl,
    }


RECORDS = [
    _record("elu", 8, 0.5, 0.1),
    _record("elu", 6, 0.7, 0.3),
    _record("psf", 7, 0.9, math.nan),
]


def test_stat_is_mean_and_sample_std_ignoring_nan():
    """Stat of (8, 6) is 7 ± sqrt(2) (ddof=1); NaN values are left out and counted in n."""
    s = Stat.of([8, 6, math.nan])
    assert (s.mean, s.n) == (7.0, 2)
    assert s.std == pytest.approx(math.sqrt(2))
    assert math.isnan(Stat.of([5]).std)  # one seed: no spread (NaN, as in the report)
    assert Stat.of([math.nan]).n == 0


def test_summary_rows_follow_the_requested_order_and_format_percentages():
    """Rows come in the requested order; HQ is shown in percent; an undefined KL says n/a."""
    rows = summarize(RECORDS, ["psf", "elu"])
    assert [r.activation for r in rows] == ["psf", "elu"]
    text = format_text(rows)
    elu_line = next(line for line in text.splitlines() if line.startswith("elu"))
    assert "7.0 ± 1.4" in elu_line and "60.0 ± 14.1" in elu_line and "0.200 ± 0.141" in elu_line
    psf_line = next(line for line in text.splitlines() if line.startswith("psf"))
    assert psf_line.rstrip().endswith("n/a")
    md = format_markdown(rows, "### title")
    assert md.startswith("### title") and "| elu | 2 | 7.0 ± 1.4 |" in md


def test_csv_holds_unformatted_numbers(tmp_path):
    """The CSV keeps raw means and stds (fractions, not percent) for other tools."""
    path = tmp_path / "s.csv"
    write_csv(summarize(RECORDS, ["elu"]), path)
    (row,) = list(csv.DictReader(path.open()))
    assert float(row["high_quality_fraction_mean"]) == pytest.approx(0.6)
    assert float(row["modes_covered_std"]) == pytest.approx(math.sqrt(2))
    assert row["runs"] == "2"


def test_one_seed_shows_its_value_without_a_spread():
    """Issue 23: the std of one seed was 0.0 here and NaN in the report; it is NaN everywhere,
    and the table shows the single value with no "± 0.0" that would claim no spread."""
    (row,) = summarize([_record("psf", 7, 0.9, 0.2)], ["psf"])
    assert math.isnan(row.stats["modes_covered"].std)
    psf_line = next(line for line in format_text([row]).splitlines() if "psf" in line)
    assert "7.0" in psf_line and "±" not in psf_line
