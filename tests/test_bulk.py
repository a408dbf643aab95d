"""batch, backtest, priors derive/compare and pooled fits on small files (small draws, one process)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from curvecast.cli import app

runner = CliRunner()
SMALL = ["--draws", "150", "--chains", "2", "--seed", "1"]


@pytest.fixture(scope="module")
def two_curves(seed_csv, tmp_path_factory):
    df = pd.read_csv(seed_csv)
    df = df[df.curve.isin(["COCO_ssd_resnet101_v1_fpn", "BDD_ssd_resnet101_v1_fpn"])]
    path = tmp_path_factory.mktemp("bulk") / "two.csv"
    df.to_csv(path, index=False)
    return path


def test_batch_writes_one_row_per_curve(two_curves, tmp_path):
    out = tmp_path / "answers.csv"
    r = runner.invoke(
        app,
        [
            "batch",
            str(two_curves),
            "-o",
            str(out),
            "--at",
            "100000",
            "--at",
            "200000",
            "--targets",
            "0.45",
            "--jobs",
            "1",
            *SMALL,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout)
    assert stats["curves"] == 2 and stats["failed"] == 0 and stats["curves_per_minute"] > 0
    df = pd.read_csv(out)
    assert list(df.curve) == ["BDD_ssd_resnet101_v1_fpn", "COCO_ssd_resnet101_v1_fpn"]
    for col in (
        "median@100000",
        "q5@200000",
        "p_reach_0.45@100000",
        "n_needed_0.45_p0.8",
        "p_never_0.45",
        "divergences",
        "rhat_max",
    ):
        assert col in df.columns
    assert df["p_reach_0.45@100000"].between(0, 1).all()
    assert (df["q5@100000"] <= df["median@100000"]).all()


def test_backtest_json_keys(two_curves, tmp_path):
    per_curve = tmp_path / "per_curve.csv"
    r = runner.invoke(
        app, ["backtest", str(two_curves), "--cutoff", "0.1", "--jobs", "1", "--out", str(per_curve), *SMALL, "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"cutoff", "n_curves", "n_skipped", "summary", "curves"} <= set(out)
    s = out["summary"]
    for k in (
        "mae_final_median",
        "mae_final_mean",
        "mae_heldout_mean",
        "coverage_50",
        "coverage_80",
        "coverage_90",
        "crps_mean",
        "lpd_mean",
        "divergent_fits",
        "retried_fits",
        "seconds",
    ):
        assert k in s
    assert out["n_curves"] == 2 and 0 <= s["coverage_90"] <= 1
    assert len(pd.read_csv(per_curve)) == 2
    human = runner.invoke(app, ["backtest", str(two_curves), "--cutoff", "0.1", "--jobs", "1", *SMALL])
    assert human.exit_code == 0 and "log regression" in human.output


def test_backtest_skips_curves_with_too_few_points(two_curves):
    r = runner.invoke(app, ["backtest", str(two_curves), "--cutoff", "0.02", "--jobs", "1", *SMALL, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_skipped"] == 2


def test_priors_derive_and_compare(coco_nc, small_csv, tmp_path):
    toml = tmp_path / "coco.toml"
    r = runner.invoke(app, ["priors", "derive", str(coco_nc), "-o", str(toml), "--widen", "2"])
    assert r.exit_code == 0, r.output
    text = toml.read_text()
    assert "[pow3]" in text and "alpha" in text and "y_ref" not in text.split("[pow3]")[1]
    img = tmp_path / "cmp.png"
    r = runner.invoke(
        app,
        [
            "priors",
            "compare",
            str(small_csv),
            "--priors",
            "default",
            "--priors",
            str(toml),
            "--at",
            "100000",
            "--target",
            "0.45",
            "-o",
            str(img),
            *SMALL,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["rows"]
    assert len(rows) == 2 and all(0 <= row["p_target"] <= 1 for row in rows)
    assert all(row["prior_upper"] - row["prior_lower"] > row["post_upper"] - row["post_lower"] for row in rows)
    assert img.read_bytes()[:4] == b"\x89PNG"
    bad = runner.invoke(app, ["priors", "derive", str(coco_nc), "-o", str(toml), "--widen", "0.5"])
    assert bad.exit_code == 2 and "widen" in bad.output


def test_fit_pool(two_curves, tmp_path):
    out = tmp_path / "pooled.nc"
    r = runner.invoke(app, ["fit", str(two_curves), "-o", str(out), "--pool", *SMALL, "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert set(res["curves"]) == {"COCO_ssd_resnet101_v1_fpn", "BDD_ssd_resnet101_v1_fpn"}
    assert "mu_alpha" in res["hyper"] and "tau_alpha" in res["hyper"]
    for v in res["curves"].values():
        r2 = runner.invoke(app, ["prob", v["output"], "--target", "0.4", "--at", "100000", "--json"])
        assert r2.exit_code == 0 and 0 <= json.loads(r2.stdout)["probability"] <= 1


def test_family_auto_reports_weights_and_answers(small_csv, tmp_path):
    r = runner.invoke(
        app, ["prob", str(small_csv), "--target", "0.45", "--at", "100000", "--family", "auto", *SMALL, "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out["weights"]) == {"pow3", "pow4", "mmf"}
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    assert 0 <= out["probability"] <= 1
    nc = tmp_path / "auto.nc"
    assert runner.invoke(app, ["fit", str(small_csv), "-o", str(nc), "--family", "auto", *SMALL]).exit_code == 0
    loaded = json.loads(runner.invoke(app, ["need", str(nc), "--target", "0.45", "--json"]).stdout)
    assert loaded["weights"] == pytest.approx(out["weights"])
