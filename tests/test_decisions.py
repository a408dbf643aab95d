"""Decisions: ``next_run`` (the value of information of one more run) and ``compare`` (two curves).

Tiers: exact checks against closed forms on a posterior we can write down (flat or straight curves
whose draws are given, a real :class:`Forecast` subclass); then real NUTS fits: the reweighting in
``next_run`` against brute-force refits, and ``compare`` on two synthetic curves with a known crossing.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import curvecast as cc
from curvecast.comparison import compare, summary_lines
from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.results import Forecast
from curvecast.run_value import (
    GOOD_ENOUGH,
    ReachAt,
    check_options,
    corrected,
    default_candidates,
    interpolate,
    next_run,
    refit_parts,
    reweight,
)
from curvecast.units import Costs


class Lines(Forecast):
    """A posterior over straight lines in log n: ``y(n) = level + slope * log(n / 1000)``, one draw per
    (level, slope), evaluation noise ``noise``; the target is reached where the line crosses it."""

    def __init__(self, level, slope=None, noise=1.0, name="toy", x_unit="images", y_unit="mAP", increasing=True):
        self.level = np.asarray(level, float)
        self.slope = np.zeros_like(self.level) if slope is None else np.asarray(slope, float)
        self.noise = noise
        y = [0.1, 0.2, 0.3] if increasing else [0.3, 0.2, 0.1]
        self.data = CurveData([250, 500, 1000], y, metric_min=-100, metric_max=100, name=name, x_unit=x_unit,
                              y_unit=y_unit, increasing=increasing)  # fmt: skip
        self.settings, self.bounded, self.components, self.weights = {}, True, [self], np.ones(1)

    @property
    def label(self) -> str:
        return "lines"

    def latent(self, n):
        n = np.atleast_1d(np.asarray(n, float))
        return self.level[:, None] + self.slope[:, None] * np.log(n / 1000)[None, :]

    def sigma_at(self, n):
        return np.full((self.level.size, np.atleast_1d(n).size), self.noise)

    def n_star(self, target):
        s = self.data.sign
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            n = 1000 * np.exp((target - self.level) / self.slope)
        now = s * (self.level - target) >= 0  # reached at n = 1000 already (the lines rise)
        return np.where(now, 1000.0, np.where(s * self.slope > 0, n, np.inf))


RNG = np.random.default_rng(20261123)
THETA = RNG.standard_normal(4000)  # prior N(0, 1), noise 1: theta | y ~ N(y / 2, 1 / 2)


def p_after(y, target):
    return stats.norm.sf(target, loc=np.asarray(y) / 2, scale=math.sqrt(0.5))


# -- exact: the reweighting is Bayes' rule ---------------------------------------------------
@pytest.mark.parametrize("y", [-1.5, 0.0, 0.7, 2.5])
def test_reweighting_matches_the_conjugate_posterior(y):
    w = reweight(Lines(THETA), 2000.0, [y])[0]
    assert w.sum() == pytest.approx(1.0)
    assert w @ (THETA >= 0.3) == pytest.approx(p_after(y, 0.3), abs=0.02)
    assert w @ THETA == pytest.approx(y / 2, abs=0.05)


def test_leave_out_gives_the_generating_draw_no_weight():
    w = reweight(Lines(THETA), 2000.0, [0.1, 0.2], leave_out=np.array([5, 9]))
    assert w[0, 5] == 0 and w[1, 9] == 0 and w[0, 9] > 0


def test_preposterior_matches_the_closed_form():
    """E[P(wrong call) after] and P(the run settles it) for y ~ N(0, 2), by quadrature."""
    target, conf = 0.3, 0.9
    r = next_run(Lines(THETA), target, at=1000, confidence=conf, candidates=[2000], outcomes=1000, seed=4)
    y = np.linspace(-12, 12, 20001)
    dens = stats.norm.pdf(y, scale=math.sqrt(2))
    p = p_after(y, target)
    u_after = np.trapezoid(np.minimum(p, 1 - p) * dens, y)
    settles = np.trapezoid(((p >= conf) | (p <= 1 - conf)) * dens, y)
    row = r["candidates"][0]
    p0 = float(np.mean(target <= THETA))
    assert r["method"] == "weights" and r["now"]["p"] == pytest.approx(p0)
    assert row["uncertainty_after"] == pytest.approx(u_after, abs=0.02)
    assert row["p_settles"] == pytest.approx(settles, abs=0.04)
    assert row["expected_reduction"] == pytest.approx(min(p0, 1 - p0) - u_after, abs=0.02)
    assert row["p_settles_yes"] + row["p_settles_no"] == pytest.approx(row["p_settles"])


def test_recommendation_is_the_cheapest_good_enough_candidate():
    # flat curves: every size tells the same, so the cheapest (smallest) one is recommended
    costs = Costs(per_sample=0.5, fixed=100)
    r = next_run(Lines(THETA), 0.3, at=8000, candidates=[1500, 3000, 8000], costs=costs, outcomes=300)
    rows = r["candidates"]
    assert [c["cost"] for c in rows] == [350.0, 1100.0, 3600.0]
    best = max(c["expected_reduction"] for c in rows)
    assert all(c["expected_reduction"] >= GOOD_ENOUGH * best for c in rows)
    rec = r["recommendation"]
    assert rec["action"] == "run" and rec["n"] == 1500
    assert "run at 1,500 images (+500, cost 350.00)" in rec["message"]


def test_stop_when_decided_or_out_of_reach():
    r = next_run(Lines(THETA), -3.0, at=1000, candidates=[2000])
    assert r["recommendation"]["reason"] == "decided"
    assert r["recommendation"]["message"].startswith("stop: the question is already decided at confidence 0.9")
    r = next_run(Lines(THETA), 3.0, at=1000, candidates=[2000])
    assert r["recommendation"]["reason"] == "out_of_reach"
    want = f"stop: the target is out of reach with probability {r['now']['p_never']:.2f}"
    assert r["recommendation"]["message"] == want
    # a run that cannot tell anything (noise far above the spread of the curves)
    r = next_run(Lines(THETA, noise=1e4), 0.3, at=1000, candidates=[2000], outcomes=300)
    assert r["recommendation"]["reason"] == "no_run_helps" and r["recommendation"]["action"] == "stop"


def test_a_data_needed_question_decided_says_which_way():
    """Decided by the cap (out of reach in practice), by the data in hand, or by a narrow interval:
    the message says which, and never gives the cap as the top of an interval."""
    level = 0.3 + 0.05 * THETA
    slow = next_run(Lines(level, slope=np.full_like(level, 0.01)), 0.6, prob=0.8, candidates=[2000], outcomes=50)
    assert slow["now"]["p_never"] == 0 and slow["recommendation"]["reason"] == "decided"
    msg = slow["recommendation"]["message"]
    assert "lies beyond 1,000,000 images (1,000x the data), out of reach in practice" in msg
    done = next_run(Lines(level, slope=np.full_like(level, 0.1)), -1.0, prob=0.8, candidates=[2000], outcomes=50)
    assert "with probability 1.00 it is reached at 1,000 images already" in done["recommendation"]["message"]
    tight = Lines(0.3 + 0.001 * THETA, slope=np.full_like(THETA, 0.1))
    r = next_run(tight, 0.6, prob=0.8, candidates=[2000], outcomes=50)
    lo, hi = r["now"]["lower"], r["now"]["upper"]
    assert f"lies in {lo:,.0f} - {hi:,.0f} images" in r["recommendation"]["message"] and hi < r["cap"]


def test_data_needed_question_and_candidates():
    # lines rising 0.1 per e-fold from level ~ N(0.3, 0.05): n needed for 0.6 is 1000 * e^(3 +- 0.5)
    level = 0.3 + 0.05 * THETA
    f = Lines(level, slope=np.full_like(level, 0.1), noise=0.01)
    r = next_run(f, 0.6, prob=0.8, candidates=[4000, 16000], outcomes=300)
    lo, hi = 1000 * np.exp((0.6 - np.quantile(level, [0.95, 0.05])) / 0.1)
    assert r["kind"] == "data_needed" and r["uncertainty_unit"] == "doublings"
    assert r["now"]["uncertainty"] == pytest.approx(math.log2(hi / lo), rel=0.03)
    # a measurement with noise 0.01 pins the level to ~0.007: the interval shrinks below a factor 2
    assert all(c["uncertainty_after"] < 1 and c["p_settles"] > 0.9 for c in r["candidates"])
    grid = default_candidates(f, ReachAt(0.6, 50_000), np.zeros(1))
    assert grid[-1] == 50_000 and np.all(grid > 1000) and np.all(np.diff(grid) > 0)
    assert all(float(f"{v:.2g}") == v for v in grid[:-1])  # round numbers


def test_interpolation_between_refits_is_log_for_sizes():
    parts = {"lower": np.array([100.0, 10_000.0]), "p": np.array([0.2, 0.6])}
    out = interpolate(np.array([0.25, 0.75]), parts, num=4)  # levels 0.125, 0.375, 0.625, 0.875
    np.testing.assert_allclose(out["lower"], [100, 10**2.5, 10**3.5, 10_000], rtol=1e-9)  # straight in log n
    z = np.interp([0.125, 0.375, 0.625, 0.875], [0.25, 0.75], stats.norm.ppf([0.2, 0.6]))
    np.testing.assert_allclose(out["p"], stats.norm.cdf(z))  # probabilities: straight on the probit scale


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"at": 1000, "prob": 0.8}, "either --at N"),
        ({"confidence": 0.5}, "above 0.5"),
        ({"confidence": 1.2}, "strictly between 0 and 1"),
        ({"within": 1.0}, "factor > 1"),
        ({"candidates": []}, "--candidates is empty"),
        ({"candidates": [1000, -5]}, "sizes > 0"),
        ({"method": "magic"}, "--method must be one of auto, weights, refit"),
        ({"outcomes": 1}, "outcomes must lie in"),
        ({"prob": 1.0}, "--prob must lie strictly between"),
    ],
)
def test_bad_options_are_refused(options, match):
    with pytest.raises(CurvecastError, match=match):
        check_options(**options)
    with pytest.raises(CurvecastError, match=match):
        next_run(Lines(THETA), 0.3, **({"candidates": [2000]} | options))


# -- exact: compare on straight lines ---------------------------------------------------------
def test_compare_probabilities_and_no_crossing_on_flat_curves():
    a, b = Lines(0.40 + 0.02 * THETA, name="a"), Lines(0.37 + 0.03 * RNG.standard_normal(4000), name="b")
    r = compare(a, b, at=[2000, 8000], target=0.39)
    want = stats.norm.cdf(0.03 / math.hypot(0.02, 0.03))
    assert [row["p_a_better"] for row in r["at"]] == pytest.approx([want, want], abs=0.02)
    assert r["at"][0]["diff_median"] == pytest.approx(0.03, abs=0.003)
    lo, hi = r["at"][0]["diff_interval"]
    assert (lo, hi) == pytest.approx((0.03 - 1.645 * 0.036, 0.03 + 1.645 * 0.036), abs=0.006)
    assert r["crossing"]["p_cross"] == 0 and r["crossing"]["median"] is None  # flat curves never cross
    assert r["independent"] and "independent" in r["note"]
    g = r["reach"]  # flat: reached at once (n = 1000) or never
    both_never = np.mean(0.40 + 0.02 * THETA < 0.39) * stats.norm.cdf(0.02 / 0.03)
    assert g["p_neither"] == pytest.approx(both_never, abs=0.03)
    assert any(line.startswith("no crossing within 250 - ") for line in summary_lines(r))


def test_compare_finds_a_crossing_with_its_interval():
    # A flat at 0.5; B = level + 0.1 log(n / 1000) with level ~ N(0.3, 0.02): crossing at 1000 e^((0.5 - level) / 0.1)
    level = 0.3 + 0.02 * THETA
    a, b = Lines(np.full(4000, 0.5), name="flat"), Lines(level, slope=np.full(4000, 0.1), name="rising")
    r = compare(a, b, max_n=1e6, target=0.55)
    c = r["crossing"]
    assert c["p_cross"] == 1 and c["a_leads_at_start"] == 1
    assert c["median"] == pytest.approx(1000 * math.exp(2), rel=0.02)
    want = [1000 * math.exp(2 - 1.645 * 0.2), 1000 * math.exp(2 + 1.645 * 0.2)]
    assert c["interval"] == pytest.approx(want, rel=0.03)
    g = r["reach"]
    assert (g["first"], g["p_first"], g["p_a_never"]) == ("B", 1.0, 1.0)
    assert summary_lines(r)[0].startswith("crossing: A is better up to about 7,3")


def test_compare_of_a_curve_with_itself_names_no_winner():
    """Two copies of one posterior: the pairs cross at random and either may reach a target first;
    the sentences say the data cannot tell them apart instead of naming A or B."""
    level, slope = 0.3 + 0.02 * THETA, 0.05 + 0.02 * RNG.standard_normal(4000)
    f = Lines(level, slope=slope, name="same")
    r = compare(f, f, max_n=1e6, target=0.45)
    c, g = r["crossing"], r["reach"]
    assert c["p_cross"] > 0.5 and abs(c["a_leads_at_start"] - 0.5) < 0.05
    assert g["first"] is None and g["p_a_first"] == pytest.approx(g["p_b_first"], abs=0.05)
    lines = summary_lines(r)
    assert lines[0].startswith("no clear crossing: the better curve changes within 250 - 1,000,000 images")
    assert lines[1].startswith("target 0.45: no clear first (P(A first) = 0.")
    flat = Lines(level, name="flat")  # flat below the target: never reached
    never = compare(flat, flat, target=0.99)
    assert summary_lines(never)[1].startswith("target 0.99: most likely neither reaches it (P(neither ever) = ")


def test_compare_refuses_curves_that_do_not_compare():
    a = Lines(THETA)
    with pytest.raises(CurvecastError, match="A counts images and B person-days; pass --x-unit"):
        compare(a, Lines(THETA, x_unit="person-days"))
    with pytest.raises(CurvecastError, match="A measures mAP and B F1"):
        compare(a, Lines(THETA, y_unit="F1"))
    with pytest.raises(CurvecastError, match="opposite directions"):
        compare(a, Lines(THETA, increasing=False))
    with pytest.raises(CurvecastError, match="--max-n 100 must exceed"):
        compare(a, Lines(THETA), max_n=100)


# -- real fits: the weighting against brute-force refits ----------------------------------------
COCO_N = [1183.0, 2957.0, 5914.0, 11829.0]
COCO_Y = [0.191, 0.262, 0.323, 0.376]
SMALL = {"family": "pow3", "draws": 400, "tune": 300, "chains": 2}


def _fit(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cc.fit(**(SMALL | kw))


@pytest.fixture(scope="module")
def bayes_fit():
    """COCO's first four points, without the model-discrepancy term: the model updates by Bayes' rule."""
    return _fit(n=COCO_N, y=COCO_Y, seed=3, discrepancy=False, name="coco")


@pytest.mark.sampling
def test_weighting_agrees_with_brute_force_refits(bayes_fit):
    """The model updates by Bayes' rule, so reweighting today's draws must give what fitting again gives.
    Tolerance: P(mAP >= 0.45 at 100k) after each of 5 results within 0.05 on average and 0.15 at most
    (refits of 800 draws: Monte Carlo error about 0.015); the expected P(wrong call) after the run,
    by weights alone and by refits with weights between them, within 0.03."""
    seeds = iter(range(100, 200))
    refit = lambda d: _fit(data=d, seed=next(seeds), discrepancy=False)  # noqa: E731
    q = ReachAt(0.45, 100_000)
    draws = q.draws(bayes_fit)
    for n_c in (24_000.0, 100_000.0):
        levels, ys, parts = refit_parts(bayes_fit, q, n_c, 5, refit)
        parts.pop("problems")
        p_weights = reweight(bayes_fit, n_c, ys) @ draws
        gap = np.abs(p_weights - parts["p"])
        assert gap.mean() <= 0.05 and gap.max() <= 0.15, (n_c, ys, p_weights, parts["p"])
        u_refit = np.mean(q.judge(corrected(bayes_fit, q, n_c, levels, ys, parts))["uncertainty"])
        u_weights = next_run(bayes_fit, 0.45, at=100_000, candidates=[n_c], method="weights")["candidates"][0]
        assert u_weights["uncertainty_after"] == pytest.approx(u_refit, abs=0.03), n_c


@pytest.mark.sampling
def test_auto_refits_a_model_with_discrepancy(bayes_fit):
    """The default discrepancy term is set afresh at each fit, so ``auto`` refits (and says so);
    ``refit`` runs the fit's own model on the data plus each simulated result."""
    f = _fit(n=COCO_N, y=COCO_Y, seed=3, name="coco")
    r = next_run(f, 0.45, at=100_000, candidates=[100_000], outcomes=3)
    assert r["method"] == "refit" and r["outcomes"] == 3
    row = r["candidates"][0]
    assert row["ess_median"] is None and row["reliable"] and 0 <= row["refits_with_problems"] <= 3
    assert 0 <= row["uncertainty_after"] <= r["now"]["uncertainty"] + 0.05
    assert next_run(bayes_fit, 0.45, at=100_000, candidates=[50_000])["method"] == "weights"


# -- real fits: compare on two synthetic curves with a known crossing -----------------------------
SIZES = np.geomspace(1000, 64000, 7)


def _pow3(n, c, a, alpha):
    return c - a * n**-alpha


#: A saturates early (higher at first), B keeps rising: they cross inside the data
A_TRUE, B_TRUE = (0.60, 2.0, 0.35), (0.80, 8.0, 0.40)


def _crossing() -> float:
    from scipy.optimize import brentq

    return float(np.exp(brentq(lambda t: _pow3(np.exp(t), *A_TRUE) - _pow3(np.exp(t), *B_TRUE), 0, 15)))


@pytest.fixture(scope="module")
def crossing_fits():
    wiggle = np.array([1, -1, 1, -1, 1, -1, 1]) * 0.002  # a little measurement noise, fixed
    a = _fit(n=SIZES, y=_pow3(SIZES, *A_TRUE) + wiggle, seed=5, name="saturating")
    b = _fit(n=SIZES, y=_pow3(SIZES, *B_TRUE) - wiggle, seed=6, name="rising")
    return a, b


@pytest.mark.sampling
def test_compare_recovers_a_known_crossing(crossing_fits):
    a, b = crossing_fits
    true = _crossing()
    assert SIZES[0] < true < SIZES[-1]
    r = compare(a, b, at=[1500, 40_000], target=0.56)
    c = r["crossing"]
    assert c["p_cross"] >= 0.95 and c["a_leads_at_start"] >= 0.95
    assert c["interval"][0] <= true <= c["interval"][1]
    assert c["median"] == pytest.approx(true, rel=0.25)
    early, late = r["at"]
    assert early["p_a_better"] >= 0.95 and late["p_a_better"] <= 0.05 and late["diff_median"] < 0
    g = r["reach"]  # 0.56: B reaches it near 17k images; A only beyond 100k, if ever
    assert g["first"] == "B" and g["p_first"] >= 0.9
    assert summary_lines(r)[0].startswith("crossing: A is better up to about")


@pytest.mark.sampling
def test_compare_says_no_crossing_for_parallel_curves(crossing_fits):
    a, _ = crossing_fits
    lower = _fit(n=SIZES, y=_pow3(SIZES, *A_TRUE) - 0.1, seed=7, name="lower")
    r = compare(a, lower, max_n=200_000)
    assert r["crossing"]["p_no_cross"] >= 0.9 and r["crossing"]["median"] is None
    assert all(row["p_a_better"] >= 0.95 for row in r["at"])
    assert summary_lines(r)[0].startswith("no crossing within 1,000 - 200,000 samples")


def test_candidates_at_or_below_the_data_are_refused():
    """--candidates are total sizes: 500 next to 1,000 measured asks nothing (it was accepted silently)."""
    with pytest.raises(CurvecastError, match=r"must exceed the largest measured n \(1,000\); got 500: .* pass 21000"):
        next_run(Lines(THETA), 0.3, at=5000, candidates=[500, 4000])
