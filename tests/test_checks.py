"""Model checks: data that contradict the fitted model are named, clean curves are not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import curvecast as cc

N = [1000, 2000, 4000, 8000, 16000]

pytestmark = pytest.mark.sampling


def _fit(n, y, increasing=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cc.fit(n, y, increasing=increasing, draws=300, chains=4, seed=0)


def _kinds(f):
    return [c["kind"] for c in f.diagnostics.checks]


def test_a_rising_curve_declared_decreasing_is_flagged():
    f = _fit(N, [0.2, 0.3, 0.35, 0.4, 0.42], increasing=False)
    assert "direction" in _kinds(f)
    assert any("--decreasing" in p for p in f.diagnostics.problems)


def test_a_collapse_at_the_largest_size_is_flagged_with_the_point():
    f = _fit([*N, 32000], [0.2, 0.26, 0.3, 0.33, 0.35, 0.05])
    check = {c["kind"]: c for c in f.diagnostics.checks}["collapse"]
    assert check["points"] == [[32000.0, 0.05]]
    assert "contradicted" in _kinds(f)  # a fit without the last size misses it too
    assert not f.diagnostics.ok


def test_a_failed_run_in_the_middle_is_an_outlier():
    f = _fit([*N, 32000, 64000], [0.2, 0.26, 0.3, 0.0, 0.35, 0.37, 0.38])
    (check,) = f.diagnostics.checks
    assert check["kind"] == "outlier" and check["points"] == [[8000.0, 0.0]]
    assert "n=8,000 y=0" in check["message"]


def test_a_clean_curve_passes_and_checks_survive_save_and_load(tmp_path):
    clean = _fit([*N, 32000, 64000], [0.2, 0.26, 0.3, 0.33, 0.35, 0.37, 0.38])
    assert _kinds(clean) == []
    bad = _fit([*N, 32000], [0.2, 0.26, 0.3, 0.33, 0.35, 0.05])
    cc.save(bad, tmp_path / "bad.nc")
    assert cc.load(tmp_path / "bad.nc").diagnostics.checks == bad.diagnostics.checks


def _broken(n):
    """A BNSL-style error curve: flat near 0.98, then a sharp fall after n = 8,000."""
    n = np.asarray(n, float)
    return 0.02 + 0.96 / (1 + (n / 8000.0) ** 4)


def test_a_sharp_break_is_warned_and_its_targets_stay_in_the_band():
    """The issue's silent failure: pow3 missed every target of a break with clean diagnostics."""
    rng = np.random.default_rng(1)
    n_all = 1000 * 2.0 ** np.arange(7)
    y_all = _broken(n_all) + rng.normal(0, 0.005, n_all.size)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = cc.fit(n_all[:5], y_all[:5], increasing=False, draws=300, seed=0)
    check = {c["kind"]: c for c in f.diagnostics.checks}["contradicted"]
    assert check["ratio"] > 2.5 and "not to be trusted" in check["message"]
    assert any("contradicted" in str(w.message) for w in caught)
    band = f.predict(n_all[5:])
    assert np.all((band.measured_lower <= y_all[5:]) & (y_all[5:] <= band.measured_upper))


def test_held_out_sets_leave_three_sizes():
    from curvecast.checks import held_out_sets
    from curvecast.data import CurveData

    assert held_out_sets(CurveData([1, 2, 3], [0.1, 0.2, 0.3])) == []
    sets = dict(held_out_sets(CurveData(np.arange(1, 9) * 100.0, np.linspace(0.1, 0.5, 8))))
    assert list(sets["the last size"]) == [False] * 7 + [True]
    third = sets["the last third of log n"]
    assert third.sum() >= 2 and (~third).sum() >= 3 and third[-1] and not third[0]
