"""Model checks: data that contradict the fitted model are named, clean curves are not."""

from __future__ import annotations

import warnings

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
    (check,) = f.diagnostics.checks
    assert check["kind"] == "collapse" and check["points"] == [[32000.0, 0.05]]
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
