"""Backtest building blocks: the least-squares peers, corpus-given splits, the new scores."""

from __future__ import annotations

import numpy as np
import pytest

from curvecast.backtest import group_curves, run_backtest, split
from curvecast.data import CurveData, split_masks
from curvecast.errors import CurvecastError
from curvecast.peers import PEERS, predict_peers

N = np.array([100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0])


def test_least_squares_pow3_recovers_an_exact_power_law():
    y = 0.9 - 0.5 * (N / 3200.0) ** -0.3 * 0.3
    train = CurveData(N, y)
    far = np.array([32_000.0])
    want = 0.9 - 0.15 * 10.0**-0.3
    pred = predict_peers(train, far)
    assert set(pred) == set(PEERS)
    assert pred["ls_pow3"][0] == pytest.approx(want, abs=1e-6)
    assert pred["last"][0] == y[-1]
    coef = np.polyfit(np.log(N), y, 1)
    assert pred["logreg"][0] == pytest.approx(np.polyval(coef, np.log(far[0])), rel=1e-9)


def test_peers_average_replicates_and_respect_the_bounds():
    n = np.repeat([10.0, 20.0, 40.0], 2)
    y = np.array([0.90, 0.92, 0.95, 0.97, 0.98, 1.0])  # a log line would pass 1.0
    pred = predict_peers(CurveData(n, y), np.array([1e6]))
    assert pred["last"][0] == pytest.approx(0.99)
    assert all(0.0 <= v[0] <= 1.0 for v in pred.values())


def test_split_masks_follow_the_rows_sorted_by_n(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "curve,n,metric,fit\na,400,0.3,0\na,100,0.1,1\na,300,0.25,1\na,200,0.2,1\nb,1,0.1,1\nb,2,0.2,1\nb,3,0.3,1\n"
    )
    masks = split_masks(path, "fit")
    assert masks["a"].tolist() == [True, True, True, False] and masks["b"].all()
    data = CurveData([400, 100, 300, 200], [0.3, 0.1, 0.25, 0.2])
    train, n_out, y_out = split(data, 0.1, masks["a"])
    assert y_out.tolist() == [0.3]
    assert train is not None and train.n.tolist() == [100, 200, 300] and n_out.tolist() == [400]
    assert split(CurveData([1, 2, 3], [0.1, 0.2, 0.3]), 0.1, masks["b"])[0] is None  # nothing held out


@pytest.mark.parametrize(
    ("text", "match"), [("curve,n,metric\na,1,0.1\n", "not found"), ("n,metric,fit\n1,0.1,2\n", r"1 \(fit on\) or 0")]
)
def test_bad_split_columns_are_clear_errors(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CurvecastError, match=match):
        split_masks(path, "fit")


@pytest.mark.sampling
def test_a_corpus_split_is_backtested_with_peers_width_and_rmse():
    n = np.geomspace(1e3, 1e6, 12)
    y = 0.8 - 0.6 * (n / 1e3) ** -0.25
    data = CurveData(n, y, name="c")
    mask = n < 5e4
    res = run_backtest([data], masks={"c": mask}, fit_kwargs={"draws": 200, "chains": 2}, jobs=1)
    (row,) = res["curves"]
    assert row["n_train"] == mask.sum() and row["n_heldout"] == (~mask).sum()
    assert row["width_90"] > 0 and 0 <= row["rmse_heldout"] < 0.1
    assert row["ls_pow3_mae_final"] < 1e-3  # an exact power law: the least-squares peer nails it
    s = res["summary"]
    assert {"width_90_mean", "rmse_heldout_median", *(f"{p}_rmse_heldout_median" for p in PEERS)} <= set(s)
    assert res["cutoff"] is None  # the split decided, not a cutoff


def test_a_cutoff_beside_a_split_column_is_refused(tmp_path):
    from typer.testing import CliRunner

    from curvecast.cli import app

    path = tmp_path / "s.csv"
    path.write_text("curve,n,metric,fit\na,1,0.1,1\na,2,0.2,1\na,3,0.3,1\na,4,0.35,0\n")
    r = CliRunner().invoke(app, ["backtest", str(path), "--split-column", "fit", "--cutoff", "0.9"])
    assert r.exit_code == 2 and "--split-column fit decides which rows to fit on; drop --cutoff" in r.output


def _named(*names: str) -> list[CurveData]:
    n = np.array([1.0, 2.0, 4.0])
    return [CurveData(n=n, y=np.array([0.1, 0.2, 0.3]), name=name) for name in names]


def test_pool_by_groups_on_the_regex_first_group_and_keeps_the_others_alone():
    curves = _named("resnet_seed1", "resnet_seed2", "vit_seed1", "vit_seed2", "other")
    groups = group_curves(curves, r"^(\w+?)_seed")
    assert [[c.name for c in g] for g in groups] == [
        ["resnet_seed1", "resnet_seed2"], ["vit_seed1", "vit_seed2"], ["other"]
    ]  # fmt: skip
    assert [len(g) for g in group_curves(curves, "all")] == [5]


REFUSED = [("nomatch(x)", "nothing would be pooled"), ("(.*)", "a group of its own"), ("(", "not a valid regular")]


@pytest.mark.parametrize(("pool_by", "match"), REFUSED)
def test_pool_by_that_pools_nothing_is_refused(pool_by, match):
    with pytest.raises(CurvecastError, match=match):
        group_curves(_named("a1", "b1", "c1"), pool_by)
