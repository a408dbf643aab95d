"""batch, backtest, priors derive/compare and pooled fits on small files (small draws, one process)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

import curvecast as cc
from curvecast.cli import app
from curvecast.families import get_family
from curvecast.prior_sets import known_parameters, merged_priors
from curvecast.priors import load_prior_file

pytestmark = pytest.mark.sampling

runner = CliRunner()
SMALL = ["--draws", "150", "--chains", "2", "--seed", "1"]
COCO, BDD = "COCO_ssd_resnet101_v1_fpn", "BDD_ssd_resnet101_v1_fpn"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def two_curves(seed_csv, tmp_path_factory):
    df = pd.read_csv(seed_csv)
    path = tmp_path_factory.mktemp("bulk") / "two.csv"
    df[df.curve.isin([COCO, BDD])].to_csv(path, index=False)
    return path


def test_batch_writes_the_library_answers_one_row_per_curve(two_curves, tmp_path):
    out = tmp_path / "answers.csv"
    args = ["--at", "100000", "--at", "200000", "--targets", "0.45", "--jobs", "1", *SMALL, "--json"]
    r = run("batch", two_curves, "-o", out, *args)
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout)
    assert stats["curves"] == 2 and stats["failed"] == 0 and stats["output"] == str(out)
    df = pd.read_csv(out).set_index("curve")
    assert list(df.index) == [BDD, COCO]  # the file's order
    # the same fit through the library gives the same row: every flag reached it
    n, y = cc.load_curves(two_curves)[COCO]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cc.fit(n, y, name=COCO, draws=150, chains=2, seed=1)
    row = df.loc[COCO]
    assert row["p_reach_0.45@100000"] == pytest.approx(f.prob(0.45, [100000])[0])
    assert row["median@200000"] == pytest.approx(f.predict([200000])["median"][0])
    assert row["n_needed_0.45_p0.8"] == pytest.approx(f.need(0.45, prob=0.8)["n_needed"])
    assert row["diagnostics_ok"] == f.diagnostics.ok and row["ess_tail_min"] == pytest.approx(
        f.diagnostics.ess_tail_min
    )
    assert (row["problems"] if isinstance(row["problems"], str) else "") == "; ".join(f.diagnostics.problems)
    assert (df["q5@100000"] < df["median@100000"]).all() and (df["median@100000"] < df["q95@100000"]).all()
    assert stats["with_problems"] == int((~df["diagnostics_ok"]).sum())


def test_batch_says_how_many_answers_failed_their_checks_and_why(tmp_path):
    """A loss read as higher-is-better: every row's problems say so, and so does the summary line;
    a target already met at the smallest size is explained in the row's notes."""
    src, out = tmp_path / "loss.csv", tmp_path / "answers.csv"
    rows = [f"{c},{n},{e}" for c in "ab" for n, e in ((1000, 0.9), (2000, 0.7), (4000, 0.5), (8000, 0.45))]
    src.write_text("curve,n,metric\n" + "\n".join(rows) + "\n")
    r = run("batch", src, "-o", out, "--at", "10000", "--targets", "0.4", "--jobs", "1", "--family", "pow3", *SMALL)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert df.problems.str.contains("--decreasing").all() and not df.diagnostics_ok.any()
    assert "2 answered curve(s) failed their diagnostics or model checks" in r.stdout
    assert df.notes.str.contains("target 0.4: every measurement at the smallest size").all()


def test_backtest_json_and_per_curve_csv(two_curves, tmp_path):
    per_curve = tmp_path / "per_curve.csv"
    r = run("backtest", two_curves, "--cutoff", "0.1", "--jobs", "1", "--out", per_curve, *SMALL, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    s, rows = out["summary"], pd.read_csv(per_curve)
    assert out["n_curves"] == 2 and out["cutoff"] == 0.1 and list(rows.curve) == [BDD, COCO]
    assert s["mae_final_mean"] == pytest.approx(rows.mae_final.mean())
    assert s["crps_mean"] == pytest.approx(rows.crps.mean())
    assert s["coverage_50"] <= s["coverage_80"] <= s["coverage_90"]  # nested intervals
    human = run("backtest", two_curves, "--cutoff", "0.1", "--jobs", "1", *SMALL)
    assert human.exit_code == 0 and "logreg" in human.output and "ls_pow3" in human.output
    assert f"{s['mae_final_mean']:.4f}" in human.output  # same seed, same numbers


def test_backtest_skips_curves_with_too_few_points(two_curves):
    r = run("backtest", two_curves, "--cutoff", "0.02", "--jobs", "1", *SMALL, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_skipped"] == 2
    human = run("backtest", two_curves, "--cutoff", "0.02", "--jobs", "1", *SMALL)
    assert human.exit_code == 2 and "raise --cutoff" in human.output


def test_priors_derive_and_compare(coco_nc, small_csv, tmp_path):
    toml = tmp_path / "coco.toml"
    r = run("priors", "derive", coco_nc, "-o", toml, "--widen", "2")
    assert r.exit_code == 0, r.output
    derived = load_prior_file(toml, known_parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = cc.derive_priors(cc.load(coco_nc), 2.0)
    assert derived == want and set(derived["pow3"]) == {"alpha"}  # y_ref, room keep the defaults
    img = tmp_path / "cmp.png"
    args = ["--priors", "default", "--priors", toml, "--at", "100000", "--target", "0.45", "-o", img, *SMALL]
    r = run("priors", "compare", small_csv, *args, "--json")
    assert r.exit_code == 0, r.output
    default, informed = json.loads(r.stdout)["rows"]
    assert (default["priors"], informed["priors"]) == ("default", str(toml))
    for row in (default, informed):
        assert row["prior_upper"] - row["prior_lower"] > row["post_upper"] - row["post_lower"]
    n, y = next(iter(cc.load_curves(small_csv).values()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cc.fit(n, y, draws=150, chains=2, seed=1)  # what the default row must have fitted
    assert default["post_median"] == pytest.approx(f.predict([100000])["median"][0])
    assert default["p_target"] == pytest.approx(f.prob(0.45, [100000])[0])
    assert img.read_bytes()[:4] == b"\x89PNG"
    bad = run("priors", "derive", coco_nc, "-o", toml, "--widen", "0.5")
    assert bad.exit_code == 2 and "widen" in bad.output


def test_priors_compare_carries_each_sets_diagnostics_and_notes(small_csv, tmp_path):
    p9 = tmp_path / "p9.toml"
    p9.write_text('[pow4]\nalpha = { dist = "LogNormal", mu = -1.12, sigma = 0.5 }\n')
    args = ["--priors", "default", "--priors", p9, "--at", "100000", "--target", "0.5", *SMALL]
    r = run("priors", "compare", small_csv, *args, "--json", "--strict")
    rows = json.loads(r.stdout)["rows"]
    for row in rows:  # 2 x 150 draws cannot give the 400 effective draws the ESS check needs
        d = row["diagnostics"]
        assert not d["ok"] and any("ESS" in p for p in d["problems"]) and d["rhat_max"] > 1
        assert {"divergences", "ess_bulk_min", "ess_tail_min"} <= set(d)
    assert r.exit_code == 3, r.output  # --strict: a prior set failed
    assert rows[0]["notes"] == [] and rows[1]["notes"] == [
        "the priors' [pow4] section is unused: the model is pow3",
        "pow3 keeps the built-in priors: the prior file has no [pow3] section",
    ]
    assert f"note: prior set {p9}: the priors' [pow4] section is unused: the model is pow3" in r.stderr
    human = run("priors", "compare", small_csv, *args)
    assert human.exit_code == 0, human.output  # without --strict a failure is a warning
    for row in rows:
        why = "; ".join(row["diagnostics"]["problems"])
        assert f"Warning: prior set {row['priors']}: sampler diagnostics failed ({why})" in human.stderr
    assert human.stdout.count("failed") == 2


def test_fit_pooled_notes_prior_sections_it_does_not_use(two_curves, tmp_path):
    data = [cc.CurveData(n, y, name=name) for name, (n, y) in cc.load_curves(two_curves).items()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf = cc.fit_pooled(data, priors={"pow4": {"alpha": {"dist": "HalfNormal", "sigma": 1.0}}}, draws=50, chains=1)
    note = "the priors' [pow4] section is unused: the model is pow3"
    for f in pf.fits.values():
        assert f.data.notes == (note, "pow3 keeps the built-in priors: the prior file has no [pow3] section")
        assert f.describe()["notes"][0] == note


def test_fit_pool_uses_the_priors_and_honours_strict(two_curves, tmp_path):
    priors = tmp_path / "p.toml"
    pow4 = '[pow4]\nalpha = { dist = "LogNormal", mu = -1.1, sigma = 0.5 }\n'
    priors.write_text('[pow3]\nalpha = { dist = "LogNormal", mu = -1.1, sigma = 0.5 }\n' + pow4)
    out = tmp_path / "pooled.nc"
    r = run("fit", two_curves, "-o", out, "--pool", "--priors", priors, "--strict", *SMALL, "--json")
    res = json.loads(r.stdout)
    assert r.stderr.count("note: the priors' [pow4] section is unused: the model is pow3") == 1  # once, not per curve
    assert r.exit_code == (3 if res["diagnostics"]["problems"] else 0), r.output
    assert set(res["curves"]) == {COCO, BDD} and res["family"] == "pow3"
    assert {"mu_alpha", "tau_alpha"} <= set(res["hyper"])
    want = merged_priors(get_family("pow3"), load_prior_file(priors, known_parameters()))
    assert want["alpha"] != get_family("pow3").priors["alpha"]
    for name, v in res["curves"].items():
        assert v["output"] == str(tmp_path / f"pooled.{name}.nc")
        f = cc.load(v["output"])
        assert f.priors == want and f.data.name == name
        assert v["summary"]["alpha"] == pytest.approx(f.summary()["alpha"])


def test_family_auto_reports_weights_and_answers(small_csv, tmp_path):
    r = run("prob", small_csv, "--target", "0.45", "--at", "100000", "--family", "auto", *SMALL, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out["weights"]) == {"pow3", "pow4", "mmf"}
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    nc = tmp_path / "auto.nc"
    assert run("fit", small_csv, "-o", nc, "--family", "auto", *SMALL).exit_code == 0
    loaded = json.loads(run("prob", nc, "--target", "0.45", "--at", "100000", "--json").stdout)
    assert loaded["weights"] == pytest.approx(out["weights"])
    assert loaded["probability"] == pytest.approx(out["probability"])  # same seed, same fit, same answer
