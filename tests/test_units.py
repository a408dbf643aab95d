"""The user's units and money: column rules, percentages, readable rates, linear costs, and a
person-days curve read end to end through every command."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import curvecast as cc
from curvecast.cli import app
from curvecast.data import PERCENT_NOTE, CurveData, load_curves, x_unit_of, y_unit_of
from curvecast.errors import CurvecastError
from curvecast.units import Costs, metric_step, per, rate_step, singular

runner = CliRunner()


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- exact: names, scales, costs ------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "x", "y"),
    [("n", "samples", "n"), ("y", "y", "metric"), ("images", "images", "images"), ("map", "map", "mAP"),
     ("F1", "F1", "F1"), ("person-days", "person-days", "person-days"), ("score", "score", "metric"),
     ("mae", "mae", "MAE")],
)  # fmt: skip
def test_units_from_column_names(column, x, y):
    assert (x_unit_of(column), y_unit_of(column)) == (x, y)


@pytest.mark.parametrize(
    ("n_ref", "step", "label"),
    [(3_500, 1_000, "per 1,000 images"), (11_829, 1_000, "per 1,000 images"), (118_287, 10_000, "per 10,000 images"),
     (160, 10, "per 10 images"), (25, 1, "per image"), (3, 1, "per image"), (0.5, 1, "per image")],
)  # fmt: skip
def test_rate_step_reads_well(n_ref, step, label):
    assert rate_step(n_ref) == step
    assert per(step, "images") == label


def test_per_labels_for_other_units():
    assert per(10, "person-days") == "per 10 person-days"
    assert per(1, "person-days") == "per person-day"
    assert per(0.01, "mAP", metric=True) == "per 0.01 mAP" and per(1, "F1", metric=True) == "per 1 F1"
    assert (singular("tokens"), singular("loss"), singular("s")) == ("token", "loss", "s")


def test_metric_step_is_a_tenth_of_the_spread():
    assert metric_step(CurveData([1, 2, 4], [0.191, 0.262, 0.376])) == pytest.approx(0.01)
    assert metric_step(CurveData([1, 2, 4], [0.198, 0.242, 0.280])) == pytest.approx(0.01)
    assert metric_step(CurveData([1, 2, 4], [40.0, 55.0, 62.0])) == pytest.approx(1.0)


def test_costs_are_linear_and_checked():
    c = Costs(per_sample=0.05, fixed=200)
    np.testing.assert_allclose(c.run([1000, 5000, 500], n_now=1000), [200, 400, 200])  # below n_now: fixed only
    assert Costs.of(None, None) is None and Costs.of(0.1, None) == Costs(0.1, 0.0)
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(CurvecastError, match="--cost-per-sample must be a number >= 0"):
            Costs(per_sample=bad)
    with pytest.raises(CurvecastError, match="--fixed-cost"):
        Costs(fixed=-5)


# -- data: units, percentages, two numeric columns ----------------------------------------
def test_curvedata_carries_units_through_select():
    d = CurveData([1, 2, 4, 8], [0.1, 0.2, 0.3, 0.35], x_unit="person-days", y_unit="F1")
    assert (d.subset(4).x_unit, d.subset(4).y_unit) == ("person-days", "F1")
    e = d.with_units(x_unit="hours")
    assert (e.x_unit, e.y_unit, d.x_unit) == ("hours", "F1", "person-days")
    assert (CurveData([1, 2, 3], [0.1, 0.2, 0.3]).x_unit, CurveData([1, 2, 3], [0.1, 0.2, 0.3]).y_unit) == (
        "samples",
        "metric",
    )
    for bad in ("", "  ", "a\nb", "x" * 41):
        with pytest.raises(CurvecastError, match="short name"):
            d.with_units(x_unit=bad)


def test_percentages_are_detected_with_a_note():
    d = CurveData([10, 20, 40], [35.0, 52.5, 61.0])
    assert (d.metric_min, d.metric_max, d.bounds_inferred) == (0.0, 100.0, (True, True))
    assert d.notes == (PERCENT_NOTE,) and "--metric-max" in PERCENT_NOTE
    d.check_target(70)
    with pytest.raises(CurvecastError, match=r"outside the metric's bounds \[0, 100\]"):
        d.check_target(120)
    # not percentages: values in [0, 1], values above 100, a decreasing loss, explicit bounds
    assert CurveData([1, 2, 3], [0.2, 0.3, 0.4]).notes == ()
    assert CurveData([1, 2, 3], [50.0, 90.0, 130.0]).metric_max is None
    assert CurveData([1, 2, 3], [2.5, 1.3, 0.9], increasing=False).metric_max is None
    assert CurveData([1, 2, 3], [35.0, 52.5, 61.0], metric_min=0, metric_max=1000).notes == ()


@pytest.mark.parametrize(
    ("text", "x", "y"),
    [
        ("days,quality\n10,0.2\n20,0.3\n40,0.35\n", "days", "quality"),  # no name known: left is x
        ("f1,person_days\n0.2,10\n0.3,20\n0.35,40\n", "person_days", "f1"),  # the metric is named: the other is x
        ("curve,budget,acc\na,10,0.2\na,20,0.3\na,40,0.35\n", "budget", "acc"),  # the curve column is not a number
    ],
)
def test_two_numeric_columns_are_x_and_y_with_a_note(tmp_path, text, x, y):
    curves = load_curves(_write(tmp_path / "c.csv", text))
    assert (curves.x_column, curves.y_column) == (x, y)
    ((n, _),) = curves.values()
    np.testing.assert_array_equal(n, [10, 20, 40])
    assert len(curves.notes) == 1 and f"{x!r} is read as n" in curves.notes[0] and "--x/--y" in curves.notes[0]


def test_named_columns_need_no_note_and_three_numeric_columns_still_refuse(tmp_path):
    curves = load_curves(_write(tmp_path / "c.csv", "images,map\n10,0.2\n20,0.3\n40,0.35\n"))
    assert (curves.x_column, curves.y_column, curves.notes) == ("images", "map", ())
    with pytest.raises(CurvecastError, match=r"no n \(x\) column"):
        load_curves(_write(tmp_path / "d.csv", "days,quality,epochs\n10,0.2,1\n20,0.3,1\n40,0.35,1\n"))
    # one column given: the other numeric column is the other axis
    curves = load_curves(_write(tmp_path / "e.csv", "a,b\n0.2,10\n0.3,20\n0.35,40\n"), x="b")
    assert (curves.x_column, curves.y_column) == ("b", "a")


# -- a person-days curve, end to end ---------------------------------------------------------
#: F1 (in percent) of an annotation project against the person-days spent labelling
DAYS = [10, 20, 40, 80, 160]
F1 = [21.0, 38.5, 51.0, 59.5, 64.0]
SMALL = ["--family", "pow3", "--draws", "200", "--chains", "2", "--seed", "2"]


@pytest.fixture(scope="module")
def days_csv(tmp_path_factory) -> Path:
    rows = "\n".join(f"{d},{v}" for d, v in zip(DAYS, F1, strict=True))
    return _write(tmp_path_factory.mktemp("days") / "labelling.csv", "days,F1\n" + rows + "\n")


@pytest.fixture(scope="module")
def days_nc(days_csv, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("days_fit") / "labelling.nc"
    r = run("fit", days_csv, "-o", out, "--x-unit", "person-days", *SMALL, "--json")
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.sampling
def test_person_days_fit_reads_the_file_and_says_how(days_csv, days_nc):
    r = run("prob", days_csv, "--target", "70", "--at", "400", *SMALL)
    assert r.exit_code == 0, r.output
    assert "two numeric columns: 'days' is read as n (x) and 'F1' as the metric" in r.stderr
    assert "read as percentages" in r.stderr
    assert re.search(r"P\(F1 >= 70 at 400 days\) = \d\.\d\d", r.stdout)  # default: the column names
    f = cc.load(days_nc)
    assert (f.data.x_unit, f.data.y_unit, f.data.metric_max) == ("person-days", "F1", 100.0)


@pytest.mark.sampling
def test_person_days_in_every_answer(days_nc, tmp_path):
    f = cc.load(days_nc)
    out = json.loads(run("prob", days_nc, "--target", "70", "--at", "400", "--json").stdout)
    assert (out["x_unit"], out["y_unit"]) == ("person-days", "F1")
    assert "P(F1 >= 70 at 400 person-days)" in run("prob", days_nc, "--target", "70", "--at", "400").stdout

    r = run("need", days_nc, "--target", "62", "--cost-per-sample", "450", "--fixed-cost", "2000")
    assert r.exit_code == 0, r.output
    want = f.need(62, prob=0.8, cost_per_sample=450)
    assert "person-days for P(reach) = 0.8" in r.stdout and "budget for P = 0.8" in r.stdout
    run_fee = 2000 if want["extra_samples"] > 0 else 0  # no training run to pay for when the data reach it
    if math.isfinite(want["n_needed"]):
        budget_row = re.escape("budget for P = 0.8 (+ 2,000.00 per run)") + r"\s+│\s+"
        assert re.search(budget_row + re.escape(f"{want['cost_at_prob'] + run_fee:,.2f}"), r.stdout), r.stdout
    j = json.loads(run("need", days_nc, "--target", "62", "--cost-per-sample", "450", "--fixed-cost", "2000",
                       "--json").stdout)  # fmt: skip
    assert j["fixed_cost"] == 2000 and j["x_unit"] == "person-days"
    budget = pytest.approx(want["cost_at_prob"] + run_fee) if math.isfinite(want["n_needed"]) else None
    assert j["budget_at_prob"] == budget

    g = json.loads(run("gain", days_nc, "--step", "40", "--cost-per-sample", "450", "--json").stdout)
    assert g["rate_label"] == "per 10 person-days" and g["rate_step"] == 10
    assert g["rate"] == pytest.approx(g["mean"] / 40 * 10)
    assert g["cost"] == pytest.approx(40 * 450) and g["metric_step_label"] == "per 1 F1"
    lo, hi = g["cost_per_metric_interval"]
    assert lo <= g["cost_per_metric_step"] and (hi is None or g["cost_per_metric_step"] <= hi)
    text = run("gain", days_nc, "--step", "40", "--cost-per-sample", "450").stdout
    assert "Gain from 160 to 200 person-days" in text and "F1 per 10 person-days" in text
    assert "cost per 1 F1 gained" in text

    text = run("predict", days_nc, "--at", "400").stdout
    assert "person-days" in text and "median F1" in text

    svg = tmp_path / "fan.svg"
    assert run("plot", days_nc, "-o", svg, "--target", "70").exit_code == 0
    assert "person-days (training set size)" in svg.read_text()

    nxt = json.loads(run("next", days_nc, "--target", "70", "--at", "400", "--method", "weights", "--json").stdout)
    assert nxt["x_unit"] == "person-days" and nxt["question"] == "P(F1 >= 70 at 400 person-days)"
    text = run("next", days_nc, "--target", "70", "--at", "400", "--method", "weights").stdout
    assert "now 160 person-days" in text and re.search(r"run at [\d,]+ person-days|stop:", text)


@pytest.mark.sampling
def test_units_given_for_a_saved_fit_relabel_it(days_nc):
    r = run("predict", days_nc, "--at", "400", "--x-unit", "annotator-days", "--y-unit", "F1 (%)", "--json")
    assert r.exit_code == 0 and "ignored" not in r.stderr
    out = json.loads(r.stdout)
    assert (out["x_unit"], out["y_unit"]) == ("annotator-days", "F1 (%)")
