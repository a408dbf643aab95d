"""Queries against analytic cases: a CurveFit built from hand-made draws, no sampling."""

from __future__ import annotations

import numpy as np
import pytest

import curvecast as cc
from curvecast.data import CurveData
from curvecast.diagnostics import Diagnostics
from curvecast.errors import CurvecastError
from curvecast.families import get_family
from curvecast.results import CurveFit

DATA = CurveData([1000, 2000, 4000, 8000], [0.2, 0.25, 0.3, 0.34])


def make_fit(params: dict[str, np.ndarray], family: str = "pow3", data: CurveData = DATA) -> CurveFit:
    fam = get_family(family)
    return CurveFit(fam, data, dict(fam.priors), params, Diagnostics(0, 1.0, 1000.0, 1000.0), {})


def point_fit(c=0.5, y_ref=0.34, alpha=0.5, sigma=0.01, s=1000):
    room = (c - y_ref) / (1.0 - y_ref)
    return make_fit(
        {"y_ref": np.full(s, y_ref), "room": np.full(s, room), "alpha": np.full(s, alpha), "sigma": np.full(s, sigma)}
    )


def test_latent_is_the_formula():
    f = point_fit()
    n = np.array([8000.0, 32000.0])
    expected = 0.5 - (0.5 - 0.34) * (n / 8000) ** -0.5
    np.testing.assert_allclose(f.latent(n)[0], expected, rtol=1e-12)


def test_prob_is_fraction_of_draws_above_target():
    rng = np.random.default_rng(0)
    alpha = rng.uniform(0.2, 1.0, 4000)
    f = make_fit(
        {"y_ref": np.full(4000, 0.34), "room": np.full(4000, 0.25), "alpha": alpha, "sigma": np.full(4000, 0.01)}
    )
    c = 0.34 + 0.25 * (1 - 0.34)
    at = 64000.0
    curve = c - (c - 0.34) * (at / 8000) ** -alpha
    assert f.prob(0.45, at)[0] == pytest.approx(np.mean(curve >= 0.45))


def test_need_matches_closed_form_and_p_never():
    # half the draws have an asymptote below the target: P(never) = 0.5
    s = 2000
    c = np.r_[np.full(s // 2, 0.6), np.full(s // 2, 0.45)]
    room = (c - 0.34) / (1 - 0.34)
    f = make_fit({"y_ref": np.full(s, 0.34), "room": room, "alpha": np.full(s, 0.5), "sigma": np.full(s, 0.01)})
    r = f.need(0.5, prob=0.4)
    n_exact = 8000 * ((0.6 - 0.5) / (0.6 - 0.34)) ** (-1 / 0.5)
    assert r["p_never"] == pytest.approx(0.5)
    assert r["n_needed"] == pytest.approx(n_exact, rel=1e-9)
    assert np.isinf(f.need(0.5, prob=0.8)["n_needed"])
    assert r["p_reached_now"] == 0.0


def test_need_says_when_the_target_is_met_below_the_data():
    """0.15 is met at every size measured (0.2 at 1,000): its n is extrapolated backwards, and said so;
    0.22 lies inside the data and gets no note."""
    f = point_fit()
    r = f.need(0.15)
    assert "every measurement at the smallest size (1,000) already meets 0.15" in r["note"]
    assert "note" not in f.need(0.22) and "note" not in f.need(0.45)


def test_gain_is_difference_of_the_curve():
    f = point_fit()
    g = f.gain(8000)
    exact = (0.5 - 0.16 * 2**-0.5) - 0.34
    assert g["mean"] == pytest.approx(exact, rel=1e-12)
    assert g["interval"][0] == pytest.approx(exact) and g["per_1000"] == pytest.approx(exact / 8)


def test_decreasing_metric_direction():
    loss = CurveData([10, 20, 40, 80], [0.9, 0.7, 0.6, 0.55], increasing=False)
    f = make_fit(
        {
            "y_ref": np.full(100, 0.55),
            "room": np.full(100, 0.5),
            "alpha": np.full(100, 1.0),
            "sigma": np.full(100, 0.01),
        },
        data=loss,
    )
    # asymptote 0.275; at n = 160 the loss is 0.275 + 0.275 / 2
    assert f.latent([160])[0, 0] == pytest.approx(0.4125)
    assert f.prob(0.45, [160])[0] == 1.0  # P(loss <= 0.45)
    assert f.prob(0.40, [160])[0] == 0.0
    assert f.gain(80)["mean"] == pytest.approx(0.1375)  # improvement = loss reduction
    assert f.need(0.2)["p_never"] == 1.0


def test_measured_bands_are_wider_and_respect_bounds():
    f = point_fit(sigma=0.05)
    lat = f.bands([1e5])
    mea = f.bands([1e5], measured=True)
    assert (mea["q95"] - mea["q5"])[0] > (lat["q95"] - lat["q5"])[0]
    assert f.measured([1e5, 1e9]).max() <= 1.0
    df = f.predict([1e4, 1e5], interval=0.5)
    assert list(df.columns) == ["n", "median", "lower", "upper", "measured_lower", "measured_upper"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda f: f.prob(1.5, [1e5]), "outside the metric's bounds"),
        (lambda f: f.need(0.5, prob=1.0), "strictly between 0 and 1"),
        (lambda f: f.predict([-5]), "> 0"),
        (lambda f: f.gain(-1), "step must be"),
        (lambda f: f.gain([1000, 2000]), r"--step must be a number > 0, got \[1000, 2000\]"),
        (lambda f: f.gain(1000, from_n=True), "--from must be a number > 0, got True"),
        (lambda f: f.prob(0.5, True), "found a true/false value"),
        (lambda f: f.prob(0.5, [1e4, True]), "found a true/false value"),
        (lambda f: cc.next_run(f, 0.5, at=[1e5, 10]), "--at must be a number > 0"),
        (lambda f: cc.compare(f, f, grid=1), "grid must be a whole number of sizes >= 2"),
    ],
)
def test_bad_queries_raise_clear_errors(call, match):
    with pytest.raises(CurvecastError, match=match):
        call(point_fit())


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: CurveData([1, 2, 3], [0.1, 0.2, 0.3], increasing="no"), "increasing must be True or False"),
        (lambda: CurveData([1, 2, 3], np.array([0.1, 0.2, 0.3 + 1j])), "metric must be real numbers; found complex"),
        (lambda: CurveData(np.array([f"2026-01-0{d}" for d in (1, 2, 3)], "datetime64[D]"), [0.1, 0.2, 0.3]),
         "n must be real numbers; found date/time"),
        (lambda: cc.fit(data=DATA, increasing=False), "already holds the curve; drop increasing"),
        (lambda: cc.fit([1, 2, 3], [0.1, 0.2, 0.3], data=DATA), "drop n, y"),
        (lambda: cc.Costs(True), "--cost-per-sample must be a number >= 0, got True"),
    ],
)  # fmt: skip
def test_inputs_numpy_would_silently_misread_are_refused(make, match):
    with pytest.raises(CurvecastError, match=match):
        make()


def test_costs_take_numpy_numbers_and_a_reached_target_needs_no_run():
    f = point_fit()
    assert cc.Costs(np.int64(5), np.float32(2)).run(9000, 8000) == pytest.approx(5002)
    reached = cc.costed_need(f, 0.3, costs=cc.Costs(0.25, 300))  # met at the data: no new training run to pay for
    assert reached["p_reached_now"] == 1.0 and reached["budget_at_prob"] == 0.0
    later = cc.costed_need(f, 0.45, costs=cc.Costs(0.25, 300))
    assert later["budget_at_prob"] == pytest.approx(later["cost_at_prob"] + 300) and later["extra_samples"] > 0


def test_need_costs():
    s = 2000
    c = np.r_[np.full(s // 2, 0.6), np.full(s // 2, 0.45)]
    f = make_fit(
        {"y_ref": np.full(s, 0.34), "room": (c - 0.34) / 0.66, "alpha": np.full(s, 0.5), "sigma": np.full(s, 0.01)}
    )
    n_exact = 8000 * ((0.6 - 0.5) / (0.6 - 0.34)) ** (-1 / 0.5)
    r = f.need(0.5, prob=0.4, cost_per_sample=0.25)
    assert r["extra_samples"] == pytest.approx(n_exact - 8000)
    assert r["cost_at_prob"] == pytest.approx(0.25 * (n_exact - 8000))
    assert r["expected_cost_if_reached"] == pytest.approx(0.25 * (n_exact - 8000))
    assert r["median_cost_if_reached"] == pytest.approx(0.25 * (n_exact - 8000))
    assert np.isinf(f.need(0.5, prob=0.8, cost_per_sample=1.0)["cost_at_prob"])
    # a tenth of the reaching draws creep up to the target at absurd sizes: they own the mean, not the median
    c = np.r_[np.full(900, 0.6), np.full(100, 0.5 + 1e-6), np.full(1000, 0.45)]
    f = make_fit({"y_ref": np.full(s, 0.34), "room": (c - 0.34) / 0.66, "alpha": np.full(s, 0.5),
                  "sigma": np.full(s, 0.01)})  # fmt: skip
    r = f.need(0.5, prob=0.4, cost_per_sample=0.25)
    assert r["median_cost_if_reached"] == pytest.approx(0.25 * (n_exact - 8000))
    assert r["expected_cost_if_reached"] > 1e6 * r["median_cost_if_reached"]
    with pytest.raises(CurvecastError, match="cost per sample"):
        f.need(0.5, cost_per_sample=-1)


def test_sizes_below_one_read_as_written_not_rounded_to_zero():
    from curvecast import tables
    from curvecast.formats import size

    assert [size(v) for v in (0.5, 2.6, 12.0, 11_829.4, float("inf"))] == ["0.5", "2.6", "12", "11,829", "never"]
    assert size(61_234, words=True) == "61,200"
    days = CurveData([0.25, 0.5, 1, 2], [0.2, 0.25, 0.3, 0.34], x_unit="GPU-days")
    s = 1000
    f = make_fit({"y_ref": np.full(s, 0.34), "room": np.full(s, 0.25), "alpha": np.full(s, 0.5),
                  "sigma": np.full(s, 0.01)}, data=days)  # fmt: skip
    text = tables.prob(f, {"target": 0.3, "at": [0.5, 3.5], "measured": False, "probability": [0.1, 0.9]})
    assert "at 0.5 GPU-days" in text[0] and "at 3.5 GPU-days" in text[1]
    gain = tables.gain(f, cc.costed_gain(f, 0.5))[0]
    assert gain.title.startswith("Gain from 2 to 2.5 GPU-days")


def test_direction_check_ranks_ties_together():
    """Spearman's ranks with ties averaged: a loss that falls then flattens is decreasing, a flat curve has no
    direction (position-ordered ties read the first as -0.79, missing the warning, and the second as +1)."""
    from curvecast.checks import direction_check

    n, s = [1000, 2000, 4000, 8000, 16000, 32000, 64000], 100
    params = {"y_ref": np.full(s, 0.3), "room": np.full(s, 0.5), "alpha": np.full(s, 0.5), "sigma": np.full(s, 0.01)}
    falling = CurveData(n, [0.30, 0.2, 0.1, 0.05, 0.05, 0.05, 0.05], metric_min=0.0, metric_max=1.0)
    (check,) = direction_check(make_fit(params, data=falling))
    assert "rank correlation -0.91 with n" in check["message"] and "--decreasing" in check["message"]
    flat = CurveData(n, [0.5] * 7, increasing=False, metric_min=0.0, metric_max=1.0)
    assert direction_check(make_fit(params, data=flat)) == []


def test_an_averaged_fit_reads_as_its_weights_and_one_sample_is_singular():
    from pathlib import Path

    from curvecast.units import amount

    f = cc.load(Path(__file__).parent / "data" / "v0.1.0_averaged.nc")
    assert repr(f).startswith("AveragedFit(families={pow3: 0.00, pow4: 1.00, mmf: 0.00}, weighting='stacking'")
    assert f.summary()["weight[pow3]"] == {"median": 0.0, "q5": 0.0, "q95": 0.0}  # not stacking's 1.7e-16
    assert (amount(1, "samples"), amount(1, "person-days"), amount(3, "samples")) == (
        "1 sample", "1 person-day", "3 samples")  # fmt: skip
