"""Every CLI command through Typer's CliRunner: human and --json output, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curvecast.cli import app

runner = CliRunner()
SMALL = ["--draws", "150", "--chains", "2", "--seed", "1"]


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def ok_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_help_lists_commands():
    r = run("--help")
    assert r.exit_code == 0
    for cmd in ("fit", "prob", "need", "predict", "gain", "plot", "families", "demo"):
        assert cmd in r.output


def test_prob_on_saved_fit_json(coco_nc):
    out = ok_json(run("prob", coco_nc, "--target", "0.5", "--at", "100000", "--json"))
    assert 0 <= out["probability"] <= 1
    assert {"divergences", "rhat_max", "ess_bulk_min"} <= set(out["diagnostics"])
    assert out["target"] == 0.5 and out["at"] == [100000.0]


def test_prob_human_and_measured(coco_nc):
    r = run("prob", coco_nc, "--target", "0.45", "--at", "50000", "--at", "100000", "--measured")
    assert r.exit_code == 0, r.output
    assert "P(metric >= 0.45 at 50,000) =" in r.output and "P(metric >= 0.45 at 100,000) =" in r.output


def test_need_with_cost(coco_nc):
    out = ok_json(run("need", coco_nc, "--target", "0.45", "--prob", "0.8", "--cost-per-sample", "0.1", "--json"))
    assert {"n_needed", "interval", "p_never", "cost_at_prob", "expected_cost_if_reached"} <= set(out)
    assert out["cost_at_prob"] == "inf" or out["cost_at_prob"] == pytest.approx(out["extra_samples"] * 0.1)
    r = run("need", coco_nc, "--target", "0.45")
    assert r.exit_code == 0 and "P(never reached)" in r.output


def test_predict_and_gain(coco_nc):
    out = ok_json(run("predict", coco_nc, "--at", "20000", "--at", "100000", "--interval", "0.8", "--json"))
    assert len(out["predictions"]) == 2 and out["predictions"][0]["lower"] <= out["predictions"][0]["median"]
    g = ok_json(run("gain", coco_nc, "--step", "10000", "--json"))
    assert g["step"] == 10000 and g["interval"][0] <= g["mean"] <= g["interval"][1]
    assert run("predict", coco_nc, "--at", "20000").exit_code == 0
    assert run("gain", coco_nc, "--step", "10000").exit_code == 0


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_image(coco_nc, tmp_path, suffix):
    out = tmp_path / f"fan{suffix}"
    r = run("plot", coco_nc, "-o", out, "--target", "0.45")
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    if suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    else:
        assert b"<svg" in data[:500]


def test_families_lists_registry():
    out = ok_json(run("families", "--json"))
    names = {f["name"]: f for f in out["families"]}
    assert names["log"]["bounded"] is False and names["pow3"]["bounded"] is True
    assert run("families").exit_code == 0


def test_fit_from_csv_and_save(small_csv, tmp_path):
    out = tmp_path / "f.nc"
    res = ok_json(run("fit", small_csv, "-o", out, *SMALL, "--json"))
    assert out.exists() and res["family"] == "pow3" and "asymptote" in res["summary"]
    r = run("prob", small_csv, "--target", "0.5", "--at", "100000", *SMALL)
    assert r.exit_code == 0 and "P(metric >= 0.5 at 100,000)" in r.output


def test_strict_exits_3_on_failed_diagnostics(small_csv):
    # 20 draws cannot reach ESS 400: diagnostics fail
    r = run("prob", small_csv, "--target", "0.5", "--at", "1e5", "--draws", "20", "--chains", "2", "--strict")
    assert r.exit_code == 3
    assert "diagnostics failed" in r.output


def test_input_file_is_never_modified(small_csv, tmp_path):
    before = small_csv.read_bytes()
    run("fit", small_csv, "-o", tmp_path / "x.nc", *SMALL)
    assert small_csv.read_bytes() == before


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


BAD_CASES = {
    "missing file": (lambda t: ["prob", t / "nope.csv", "--target", "0.5", "--at", "1e5"], "not found"),
    "unreadable": (
        lambda t: ["prob", _write(t, "b.csv", "\x00\x01garbage"), "--target", "0.5", "--at", "1e5"],
        "no table|cannot|no n",
    ),
    "missing column": (
        lambda t: ["prob", _write(t, "c.csv", "foo,bar\n1,2\n2,3\n3,4\n"), "--target", "0.5", "--at", "1e5"],
        "no n \\(x\\) column",
    ),
    "ambiguous column": (
        lambda t: [
            "prob",
            _write(t, "d.csv", "n,accuracy,loss\n1,.1,.2\n2,.2,.3\n3,.3,.4\n"),
            "--target",
            "0.5",
            "--at",
            "1e5",
        ],
        "ambiguous",
    ),
    "non-numeric": (
        lambda t: ["prob", _write(t, "e.csv", "n,metric\n1,.1\n2,abc\n3,.3\n"), "--target", "0.5", "--at", "1e5"],
        "non-numeric",
    ),
    "nan": (
        lambda t: ["prob", _write(t, "f.csv", "n,metric\n1,.1\n2,nan\n3,.3\n"), "--target", "0.5", "--at", "1e5"],
        "non-numeric or missing|NaN",
    ),
    "inf": (
        lambda t: ["prob", _write(t, "g.csv", "n,metric\n1,.1\n2,inf\n3,.3\n"), "--target", "0.5", "--at", "1e5"],
        "NaN or inf",
    ),
    "n <= 0": (
        lambda t: ["prob", _write(t, "h.csv", "n,metric\n0,.1\n2,.2\n3,.3\n4,.4\n"), "--target", "0.5", "--at", "1e5"],
        "n must be > 0",
    ),
    "few n": (
        lambda t: ["prob", _write(t, "i.csv", "n,metric\n1,.1\n2,.2\n"), "--target", "0.5", "--at", "1e5"],
        "at least 3 distinct n",
    ),
    "out of bounds": (
        lambda t: [
            "prob",
            _write(t, "j.csv", "n,metric\n1,.1\n2,.2\n3,.9\n"),
            "--target",
            "0.5",
            "--at",
            "1e5",
            "--metric-max",
            "0.5",
        ],
        "above the metric's upper bound",
    ),
    "unknown family": (
        lambda t: [
            "prob",
            _write(t, "k.csv", "n,metric\n1,.1\n2,.2\n3,.3\n"),
            "--target",
            "0.5",
            "--at",
            "1e5",
            "--family",
            "banana",
        ],
        "unknown family",
    ),
    "unknown curve": (
        lambda t: [
            "prob",
            _write(t, "l.csv", "curve,n,metric\na,1,.1\na,2,.2\na,3,.3\n"),
            "--curve",
            "zzz",
            "--target",
            "0.5",
            "--at",
            "1e5",
        ],
        "no curve named",
    ),
    "multi curve": (
        lambda t: [
            "prob",
            _write(t, "m.csv", "curve,n,metric\na,1,.1\na,2,.2\na,3,.3\nb,1,.1\n"),
            "--target",
            "0.5",
            "--at",
            "1e5",
        ],
        "pick one with --curve",
    ),
    "bad prior file": (
        lambda t: [
            "prob",
            _write(t, "n.csv", "n,metric\n1,.1\n2,.2\n3,.3\n"),
            "--target",
            "0.5",
            "--at",
            "1e5",
            "--priors",
            _write(t, "p.toml", '[pow3]\nalpha = { dist = "Nope" }\n'),
        ],
        "unknown distribution",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_exits_2_without_traceback(case, tmp_path):
    make_args, match = BAD_CASES[case]
    r = run(*make_args(tmp_path))
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    import re

    assert re.search(match, r.output), r.output
    assert len(r.output.strip().splitlines()) <= 4


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["prob", "{nc}", "--target", "1.5", "--at", "1e5"], "outside the metric's bounds"),
        (["need", "{nc}", "--target", "0.5", "--prob", "1.2"], "strictly between 0 and 1"),
        (["prob", "{bad}", "--target", "0.5", "--at", "1e5"], "not a curvecast fit"),
    ],
)
def test_bad_queries_exit_2(args, match, coco_nc, tmp_path):
    bad = tmp_path / "corrupt.nc"
    bad.write_bytes(b"\x89HDF\r\n garbage")
    r = run(*[a.format(nc=coco_nc, bad=bad) for a in args])
    assert r.exit_code == 2, r.output
    assert match in r.output and "Traceback" not in r.output


def test_queries_on_a_saved_fit_import_no_pymc(coco_nc):
    """Reading a .nc answers without PyMC, PyTensor or compilation (fast cold start)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from curvecast.cli import app\n"
        f"r = CliRunner().invoke(app, ['prob', {str(coco_nc)!r}, '--target', '0.45', '--at', '1e5', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('pymc', 'pytensor', 'nutpie', 'numba') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_help_imports_nothing_heavy():
    import subprocess
    import sys

    heavy = "('pymc', 'arviz', 'pandas', 'matplotlib')"
    code = f"import sys\nimport curvecast.cli\nprint(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
