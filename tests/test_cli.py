"""Every CLI command through Typer's CliRunner: --help, option plumbing, human and --json output, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import curvecast as cc
from curvecast.batch import build_curve
from curvecast.cli import app
from curvecast.errors import CurvecastError

runner = CliRunner()
SMALL = ["--draws", "150", "--chains", "2", "--seed", "1"]
MODELS = Path(__file__).resolve().parents[1] / "models"

#: the shared fitting options, as the old CLI declared them in every fitting command
FITTING = {"--curve", "--family", "--priors", "--metric-min", "--metric-max", "--decreasing", "--draws", "--chains",
           "--seed", "--x", "--y", "--x-unit", "--y-unit", "--curve-by", "--tracking-uri"}  # fmt: skip
MLFLOW = {"--log-to-mlflow"}  # every query command can log its answer (issue 15)
NEXT_OPTIONS = {"--target", "--at", "--prob", "--confidence", "--within", "--candidates", "--cost-per-sample",
                "--fixed-cost", "--method", "--outcomes", "--json", "--strict"}  # fmt: skip
#: every command's own options (those of the old 909-line cli.py) and which fitting options it takes
COMMANDS = {
    "fit": ({"--output", "--pool", "--json", "--strict"}, FITTING),
    "prob": ({"--target", "--at", "--measured", "--json", "--strict"} | MLFLOW, FITTING),
    "need": ({"--target", "--prob", "--cost-per-sample", "--fixed-cost", "--json", "--strict"} | MLFLOW, FITTING),
    "predict": ({"--at", "--interval", "--json", "--strict"} | MLFLOW, FITTING),
    "gain": ({"--step", "--from", "--cost-per-sample", "--fixed-cost", "--json", "--strict"} | MLFLOW, FITTING),
    "next": (NEXT_OPTIONS | MLFLOW, FITTING),
    "compare": ({"--at", "--target", "--max-n", "--interval", "--output", "--json", "--strict"}, FITTING),
    "plot": ({"--output", "--target", "--max-n", "--json", "--strict"} | MLFLOW, FITTING),
    "report": (
        {"--output", "--target", "--at", "--prob", "--cost-per-sample", "--step", "--max-n", "--json", "--strict"}
        | MLFLOW,
        FITTING,
    ),
    "families": ({"--json"}, set()),
    "demo": ({"--output"}, {"--draws", "--chains", "--seed"}),
    "backtest": (
        {"--cutoff", "--out", "--jobs", "--limit", "--pool-by", "--split-column", "--json", "--scheduler", "--workers"},
        FITTING - {"--curve"},
    ),
    "batch": (
        {"--output", "--at", "--targets", "--target", "--prob", "--jobs", "--limit", "--json"}
        | {"--scheduler", "--workers", "--resume", "--chunk-size"},
        FITTING - {"--curve"},
    ),
    "priors derive": ({"--output", "--widen", "--keep-level"}, set()),
    # --priors of `priors compare` is its own (repeatable: the sets to compare), shown with the fitting options
    "priors compare": ({"--at", "--target", "--prob", "--output", "--max-n", "--json", "--strict"}, FITTING),
    "priors default": ({"--output"}, set()),
}


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def ok_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def panels(help_text: str) -> dict[str, set[str]]:
    """``{panel title: flags listed in it}`` of a rich --help screen."""
    out: dict[str, set[str]] = {}
    title = None
    for line in help_text.splitlines():
        if m := re.match(r"\s*╭─ (.+?) ─", line):
            title = m.group(1)
            out[title] = set()
        elif line.lstrip().startswith("╰"):
            title = None
        elif title is not None:
            out[title] |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", line))
    return out


# -- --help: fast, no sampling -------------------------------------------------------
def test_help_lists_commands():
    r = run("--help")
    assert r.exit_code == 0
    for cmd in ("fit", "prob", "need", "predict", "gain", "plot", "families", "demo", "backtest", "batch", "priors",
                "next", "compare"):  # fmt: skip
        assert re.search(rf"│ {cmd}\s", r.output), cmd
    r = run("priors", "--help")
    assert all(re.search(rf"│ {cmd}\s", r.output) for cmd in ("derive", "compare", "default")), r.output


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_lists_every_option_with_fitting_options_in_their_panel(command):
    own, fitting = COMMANDS[command]
    r = run(*command.split(), "--help")
    assert r.exit_code == 0, r.output
    shown = panels(r.output)
    assert own | fitting | {"--help"} == set().union(*shown.values())
    assert shown.get("Fitting options", set()) == fitting
    assert not shown["Options"] & FITTING


def test_every_entry_of_the_option_table_is_used():
    import inspect

    from curvecast.cli import priors_app
    from curvecast.cli.options import OPTIONS

    used = set()
    for a in (app, priors_app):
        for c in a.registered_commands:
            params = inspect.signature(c.callback).parameters
            used |= set(params) | {f"{c.callback.__name__}.{p}" for p in params}
    assert set(OPTIONS) <= used, sorted(set(OPTIONS) - used)


def test_help_imports_nothing_heavy():
    import subprocess
    import sys

    heavy = "('pymc', 'arviz', 'pandas', 'matplotlib')"
    code = f"import sys\nimport curvecast.cli\nprint(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_fit_options_match_the_library_signatures():
    import inspect

    from curvecast import inference
    from curvecast.fit_options import FitOptions

    assert "family" not in FitOptions().fit_kwargs()  # the library's default model
    kw = FitOptions(family="pow3").fit_kwargs()
    assert set(kw) == {"family", "priors", "draws", "chains", "seed"}
    for fn in (inference.fit, inference.fit_pooled):
        assert set(kw) <= set(inspect.signature(fn).parameters), fn.__name__


def test_fit_options_flags_and_help_come_from_the_library():
    """A FitOptions field is the flag ``flag(field)`` (the name a saved fit's refusal uses) with the field's help."""
    from dataclasses import fields

    import typer

    from curvecast.fit_options import FitOptions, flag

    params = {p.name: p for p in typer.main.get_command(app).commands["fit"].params}
    for f in fields(FitOptions):
        assert flag(f.name) in params[f.name].opts and params[f.name].help == f.metadata["help"], f.name


def test_a_saved_fit_refuses_options_in_the_library_too():
    from curvecast.fit_options import FitOptions

    saved = Path(__file__).parent / "data" / "v0.1.0_single.nc"
    with pytest.raises(cc.CurvecastError, match="--family, --seed would need a new fit; drop them"):
        FitOptions(family="pow3", seed=3).forecast(saved)
    assert FitOptions(x_unit="tokens").forecast(saved).data.x_unit == "tokens"


def test_compare_of_saved_fits_refuses_fitting_options_and_says_when_they_fit_one_side(captured, tmp_path):
    from curvecast.fit_options import FitOptions

    saved = Path(__file__).parent / "data" / "v0.1.0_single.nc"
    with pytest.raises(
        cc.CurvecastError,
        match=r"A and B are saved fits, answered as fitted: --family, --draws would need a new fit; drop them",
    ):
        FitOptions(family="exp3", draws=50).pair([saved, saved])
    a, b = FitOptions(seed=3).pair([saved, saved])  # the seed pairs the draws: no refusal
    assert a.family.name == b.family.name == "pow3"
    one = tmp_path / "one.csv"
    one.write_text("n,metric\n1000,0.2\n2000,0.26\n4000,0.31\n8000,0.35\n")
    with pytest.raises(cc.CurvecastError, match="captured"):
        FitOptions(family="exp3").pair([saved, one])
    data = captured["fit"][1]["data"]
    assert data.notes[-1] == "--family fit this side only; the other is a saved fit, as fitted"


# -- every fitting flag reaches the library (the library call is replaced: no sampling) ----
@pytest.fixture
def loss_file(tmp_path) -> Path:
    """Two decreasing curves in columns that need --x and --y."""
    rows = [f"{c},{n},{e:.3f},7" for c in "ab" for n, e in ((100, 2.0), (200, 1.5), (400, 1.2), (800, 1.0))]
    path = tmp_path / "loss.csv"
    path.write_text("model,budget,err_rate,other\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def prior_file(tmp_path) -> Path:
    path = tmp_path / "p.toml"
    path.write_text('[pow4]\nalpha = { dist = "LogNormal", mu = -0.5, sigma = 0.6 }\n')
    return path


@pytest.fixture
def captured(monkeypatch) -> dict:
    """Replace the library's entry points by recorders that stop the command with exit code 2."""
    calls: dict = {}

    def recorder(name):
        def record(*args, **kwargs):
            calls[name] = (args, kwargs)
            raise CurvecastError("captured")

        return record

    import curvecast.backtest
    import curvecast.batch
    import curvecast.inference
    import curvecast.transfer

    for module, name in ((curvecast.inference, "fit"), (curvecast.inference, "fit_pooled"),
                         (curvecast.batch, "run_batch"), (curvecast.backtest, "run_backtest"),
                         (curvecast.transfer, "compare")):  # fmt: skip
        monkeypatch.setattr(module, name, recorder(name))
    return calls


DATA_FLAGS = ["--decreasing", "--metric-min", "0", "--metric-max", "5", "--x", "budget", "--y", "err_rate"]
DATA_FLAGS += ["--curve-by", "model"]
READ = {"x": "budget", "y": "err_rate", "curve_by": "model", "tracking_uri": None}
SAMPLER_FLAGS = ["--family", "pow4", "--draws", "50", "--chains", "1", "--seed", "7"]
FIT_KW = {"family": "pow4", "draws": 50, "chains": 1, "seed": 7}


def _check_data(data, name: str) -> None:
    assert data.name == name and not data.increasing and (data.metric_min, data.metric_max) == (0.0, 5.0)
    assert list(data.n) == [100, 200, 400, 800] and data.y[0] == pytest.approx(2.0)


@pytest.mark.parametrize(
    "args",
    [
        ["fit", "{data}", "-o", "{tmp}/f.nc"],
        ["prob", "{data}", "--target", "1", "--at", "1e4"],
        ["need", "{data}", "--target", "1"],
        ["predict", "{data}", "--at", "1e4"],
        ["gain", "{data}", "--step", "100"],
        ["plot", "{data}", "-o", "{tmp}/f.png"],
    ],
    ids=lambda a: a[0],
)
def test_fitting_flags_reach_fit(args, captured, loss_file, prior_file, tmp_path):
    argv = [a.format(data=loss_file, tmp=tmp_path) for a in args]
    r = run(*argv, "--curve", "b", "--priors", prior_file, *DATA_FLAGS, *SAMPLER_FLAGS)
    assert r.exit_code == 2 and "captured" in r.output
    _, kw = captured["fit"]
    _check_data(kw.pop("data"), "b")
    assert kw == FIT_KW | {"priors": prior_file}


def test_fit_pool_passes_every_flag_and_refuses_curve(captured, loss_file, prior_file, tmp_path):
    out = tmp_path / "pool.nc"
    r = run("fit", loss_file, "-o", out, "--pool", "--priors", prior_file, *DATA_FLAGS, *SAMPLER_FLAGS)
    assert r.exit_code == 2 and "captured" in r.output
    (curves,), kw = captured["fit_pooled"]
    assert [c.name for c in curves] == ["a", "b"] and kw == FIT_KW | {"priors": prior_file}
    _check_data(curves[1], "b")
    r = run("fit", loss_file, "-o", out, "--pool", "--curve", "a", *DATA_FLAGS)
    assert r.exit_code == 2 and "--curve" in r.output and "--pool" in r.output and "Traceback" not in r.output
    assert len(captured) == 1  # refused before any fit


def test_batch_and_backtest_pass_every_flag(captured, loss_file, prior_file, tmp_path):
    common = [loss_file, "--priors", prior_file, *DATA_FLAGS, *SAMPLER_FLAGS, "--jobs", "1"]
    r = run("batch", *common, "-o", tmp_path / "a.csv", "--at", "1e4", "--target", "1.1", "--prob", "0.7")
    assert r.exit_code == 2 and "captured" in r.output
    (source, output), kw = captured["run_batch"]
    assert (source, output) == (loss_file, tmp_path / "a.csv") and kw["read"] == READ
    _check_data(build_curve("b", np.array([100, 200, 400, 800.0]), np.array([2.0, 1.5, 1.2, 1.0]), kw["meta"]), "b")
    assert kw["fit_kwargs"] == FIT_KW | {"priors": prior_file}
    assert (kw["at"], kw["targets"], kw["prob"], kw["jobs"]) == ([1e4], [1.1], 0.7, 1)
    r = run("backtest", *common, "--cutoff", "0.5", "--pool-by", "all")
    assert r.exit_code == 2 and "captured" in r.output
    (curves, cutoff), kw = captured["run_backtest"]
    _check_data(curves[0], "a")
    assert kw["fit_kwargs"] | {"seed": kw["seed"]} == FIT_KW | {"priors": prior_file}
    assert (cutoff, kw["pool_by"], kw["jobs"]) == (0.5, "all", 1)


def test_priors_compare_passes_every_flag(captured, loss_file, prior_file):
    r = run("priors", "compare", loss_file, "--priors", "default", "--priors", prior_file, "--curve", "b",
            *DATA_FLAGS, *SAMPLER_FLAGS, "--at", "1e4", "--target", "1.1")  # fmt: skip
    assert r.exit_code == 2 and "captured" in r.output
    (data, sets), kw = captured["compare"]
    _check_data(data, "b")
    assert list(sets) == ["default", str(prior_file)] and sets["default"] is None and "pow4" in sets[str(prior_file)]
    assert kw == {
        "family": "pow4",
        "target": 1.1,
        "at": 1e4,
        "prob": 0.8,
        "fit_kwargs": {"draws": 50, "chains": 1, "seed": 7},
    }


# -- priors default: models/default.toml is generated ---------------------------------
def test_priors_default_is_models_default_toml(tmp_path):
    r = run("priors", "default")
    assert r.exit_code == 0, r.output
    assert r.stdout == (MODELS / "default.toml").read_text()
    out = tmp_path / "d.toml"
    assert run("priors", "default", "-o", out).exit_code == 0
    assert out.read_text() == r.stdout
    bad = run("priors", "default", "-o", tmp_path / "d.txt")
    assert bad.exit_code == 2 and ".toml" in bad.output


def test_families_lists_registry():
    from curvecast.families import REGISTRY

    out = ok_json(run("families", "--json"))
    names = {f["name"]: f for f in out["families"]}
    assert set(names) == set(REGISTRY)
    assert names["log"]["bounded"] is False and names["pow3"]["bounded"] is True
    assert names["pow3"]["params"] == ["y_ref", "room", "alpha"]
    assert "c - a * n^(-alpha)" in run("families").output


# -- queries on a saved fit: the CLI reports the library's answers ---------------------
@pytest.mark.sampling
def test_prob_on_saved_fit_json(coco_nc):
    out = ok_json(run("prob", coco_nc, "--target", "0.5", "--at", "100000", "--json"))
    f = cc.load(coco_nc)
    assert out["probability"] == pytest.approx(float(f.prob(0.5, [100000])[0]))
    assert out["diagnostics"] == json.loads(json.dumps(f.diagnostics.to_dict()))
    assert out["target"] == 0.5 and out["at"] == [100000.0] and out["weights"] == {"pow3": 1.0}


@pytest.mark.sampling
def test_prob_human_and_measured(coco_nc):
    r = run("prob", coco_nc, "--target", "0.45", "--at", "50000", "--at", "100000", "--measured")
    assert r.exit_code == 0, r.output
    p = cc.load(coco_nc).prob(0.45, [50000, 100000], measured=True)
    assert f"P(metric >= 0.45 at 50,000 samples) = {p[0]:.2f}" in r.output  # a fit of arrays: default units
    assert f"P(metric >= 0.45 at 100,000 samples) = {p[1]:.2f}" in r.output


@pytest.mark.sampling
def test_need_with_cost(coco_nc):
    out = ok_json(run("need", coco_nc, "--target", "0.45", "--prob", "0.8", "--cost-per-sample", "0.1", "--json"))
    want = cc.load(coco_nc).need(0.45, prob=0.8, cost_per_sample=0.1)
    for k in ("n_needed", "n_median", "p_never", "extra_samples", "cost_at_prob", "expected_cost_if_reached"):
        assert out[k] == (None if want[k] == float("inf") else pytest.approx(want[k])), k  # null: infinite
    r = run("need", coco_nc, "--target", "0.45")
    assert r.exit_code == 0 and "P(never reached)" in r.output and f"{want['p_never']:.2f}" in r.output


@pytest.mark.sampling
def test_predict_and_gain(coco_nc):
    f = cc.load(coco_nc)
    out = ok_json(run("predict", coco_nc, "--at", "20000", "--at", "100000", "--interval", "0.8", "--json"))
    want = f.predict([20000, 100000], interval=0.8)
    assert [p["median"] for p in out["predictions"]] == pytest.approx(list(want["median"]))
    assert [p["measured_upper"] for p in out["predictions"]] == pytest.approx(list(want["measured_upper"]))
    g = ok_json(run("gain", coco_nc, "--step", "10000", "--json"))
    assert g["mean"] == pytest.approx(f.gain(10000)["mean"]) and g["to_n"] == f.data.n_ref + 10000
    assert f"{want['median'][0]:.4f}" in run("predict", coco_nc, "--at", "20000", "--interval", "0.8").output
    assert f"{g['mean']:+.4f}" in run("gain", coco_nc, "--step", "10000").output
    r = run("gain", coco_nc, "--step", "10000", "--family", "pow4", "--decreasing", "--draws", "50", "--json")
    assert r.exit_code == 2 and "is a saved fit" in r.stderr and "--family, --decreasing, --draws" in r.stderr
    assert r.stdout == ""  # a saved fit is not refitted, and an option that needs a new fit is never dropped
    r = run("gain", coco_nc, "--step", "10000", "--x-unit", "images", "--json")  # units do apply
    assert r.exit_code == 0 and json.loads(r.stdout)["mean"] == g["mean"] and json.loads(r.stdout)["x_unit"] == "images"


@pytest.mark.sampling
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


@pytest.mark.sampling
def test_fit_from_csv_and_save(small_csv, tmp_path):
    out = tmp_path / "f.nc"
    res = ok_json(run("fit", small_csv, "-o", out, *SMALL, "--json"))
    saved = cc.load(out)
    assert res["family"] == "pow3" and saved.settings["draws"] == 150 and saved.settings["seed"] == 1
    assert res["summary"]["alpha"] == pytest.approx(saved.summary()["alpha"])
    r = run("prob", small_csv, "--target", "0.5", "--at", "100000", *SMALL)
    want = f"P(mAP >= 0.5 at 100,000 images) = {saved.prob(0.5, [1e5])[0]:.2f}"  # units from the columns
    assert r.exit_code == 0 and want in r.output and (saved.data.x_unit, saved.data.y_unit) == ("images", "mAP")


@pytest.mark.sampling
def test_diagnostics_warn_and_strict_exits_3(small_csv):
    # 20 draws cannot reach ESS 400: diagnostics fail
    args = ["prob", small_csv, "--target", "0.5", "--at", "1e5", "--draws", "20", "--chains", "2"]
    r = run(*args)
    assert r.exit_code == 0 and "Warning: sampler diagnostics failed (r-hat" in r.output and "more draws" in r.output
    r = run(*args, "--strict")
    assert r.exit_code == 3 and "diagnostics failed" in r.output


@pytest.mark.sampling
def test_input_file_is_never_modified(small_csv, tmp_path):
    before = small_csv.read_bytes()
    assert run("fit", small_csv, "-o", tmp_path / "x.nc", *SMALL).exit_code == 0
    assert small_csv.read_bytes() == before


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


TWO = "curve,n,metric\n" + "".join(f"{c},{n},{m}\n" for c in "ab" for n, m in ((1, 0.1), (2, 0.2), (4, 0.3)))
BAD_CASES = {
    "missing file": (lambda t: ["prob", t / "nope.csv", "--target", "0.5", "--at", "1e5"], "not found"),
    "pooled mixture": (
        lambda t: ["fit", _write(t, "two.csv", TWO), "-o", t / "p.nc", "--pool", "--family", "pow3+pow4"],
        "'pow3\\+pow4' combines families, but pooled fits and prior comparisons take one family; "
        "pass e.g. --family pow3",
    ),
    "pooled auto": (
        lambda t: ["fit", _write(t, "two.csv", TWO), "-o", t / "p.nc", "--pool", "--family", "auto"],
        "'auto' combines families, but pooled fits and prior comparisons take one family",
    ),
    "unreadable": (
        lambda t: ["prob", _write(t, "b.csv", "\x00\x01garbage"), "--target", "0.5", "--at", "1e5"],
        "no table|cannot|no n",
    ),
    "missing column": (
        # three numeric columns, none named like n (two would be read as x and y, whatever their names)
        lambda t: ["prob", _write(t, "c.csv", "foo,bar,baz\n1,2,3\n2,3,4\n3,4,5\n"), "--target", "0.5", "--at", "1e5"],
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
        r"missing value \(.nan.\) in data row 2",
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
    "markup in a message": (
        lambda t: [
            "prob",
            _write(t, "q.csv", "n,metric\n1,.1\n2,.2\n3,.3\n"),
            "--target",
            "0.5",
            "--at",
            "1e5",
            "--priors",
            _write(t, "q.toml", '[pow3]\nalpha = { dist = "Normal", mu = 0.0, sigma = 1.0 }\n'),
        ],
        r"\[pow3\]\.alpha",
    ),
    "output suffix": (
        lambda t: ["fit", _write(t, "r.csv", "n,metric\n1,.1\n2,.2\n3,.3\n"), "-o", t / "r.csv"],
        r"\.nc",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_exits_2_without_traceback(case, tmp_path):
    make_args, match = BAD_CASES[case]
    r = run(*make_args(tmp_path))
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert re.search(match, r.output), r.output
    assert len(r.output.strip().splitlines()) <= 4


@pytest.mark.sampling
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


@pytest.mark.sampling
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


# -- next and compare (issue 13) -------------------------------------------------------------
NEXT_BAD = {
    "at and prob": (["--at", "7e4", "--prob", "0.8"], "either --at N"),
    "candidates": (["--candidates", "20k,50k"], "--candidates takes sizes > 0 separated by commas.*'20k,50k'"),
    "negative candidate": (["--candidates", "20000,-5"], "--candidates takes sizes > 0 .*'20000,-5'"),
    "empty candidates": (["--candidates", ","], "--candidates takes sizes > 0"),
    "confidence": (["--confidence", "0.4"], "--confidence must lie above 0.5"),
    "method": (["--method", "magic"], "--method must be one of auto, weights, refit"),
    "cost": (["--cost-per-sample", "-1"], "--cost-per-sample must be a number >= 0"),
    "fixed cost": (["--fixed-cost", "-1"], "--fixed-cost must be a number >= 0"),
}


@pytest.mark.parametrize("case", list(NEXT_BAD))
def test_next_refuses_bad_options_before_sampling(case, captured, small_csv):
    args, match = NEXT_BAD[case]
    r = run("next", small_csv, "--target", "0.45", *args)
    assert r.exit_code == 2 and re.search(match, r.output), r.output
    assert "captured" not in r.output and not captured  # refused before any fit
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) <= 4


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["{seed}"], r"one file and two curves \(--curve A_NAME --curve B_NAME\); got 1 source\(s\) and 0"),
        (["{seed}", "{seed}", "{seed}"], "compare takes two sources.*got 3 source"),
        (["{seed}", "{seed}", "--curve", "COCO_ssd_mobilenet_v2"], "each with its --curve or none.*and 1 --curve"),
        (["{seed}", "--curve", "a", "--curve", "b", "-o", "{tmp}/x.pdf"], r"\.png or \.svg"),
        (["{seed}", "--curve", "COCO_ssd_mobilenet_v2", "--curve", "nope"], "no curve named 'nope'"),
        (["{seed}", "--curve", "COCO_ssd_mobilenet_v2", "--curve", "BDD_ssd_mobilenet_v2", "--target", "2"],
         "outside the metric's bounds"),
    ],
)  # fmt: skip
def test_compare_refuses_bad_input_before_sampling(args, match, captured, seed_csv, tmp_path):
    r = run("compare", *[a.format(seed=seed_csv, tmp=tmp_path) for a in args])
    assert r.exit_code == 2 and re.search(match, r.output), r.output
    assert not captured and "Traceback" not in r.output


@pytest.mark.sampling
def test_next_on_a_saved_fit_human_and_json(coco_nc):
    args = ["next", coco_nc, "--target", "0.45", "--at", "100000", "--method", "weights"]
    out = ok_json(run(*args, "--cost-per-sample", "0.05", "--fixed-cost", "300", "--json"))
    assert out["question"] == "P(metric >= 0.45 at 100,000 samples)" and out["x_unit"] == "samples"
    assert out["method"] == "weights" and out["costs"] == {"cost_per_sample": 0.05, "fixed_cost": 300.0}
    rows = out["candidates"]
    assert rows[-1]["n"] == 100_000 and all(r["n"] > out["n_current"] for r in rows)
    assert all(r["cost"] == pytest.approx((r["n"] - out["n_current"]) * 0.05 + 300) for r in rows)
    assert all(0 <= r["p_settles"] <= 1 and r["uncertainty_after"] >= 0 for r in rows)
    rec = out["recommendation"]
    assert rec["action"] in ("run", "stop") and rec["message"].startswith(("run at", "stop:"))
    if rec["action"] == "run":
        assert rec["n"] in [r["n"] for r in rows]
    text = run(*args).stdout
    assert "Which run next?" in text and "P(metric >= 0.45 at 100,000 samples)" in text
    assert rec["message"].split(":")[0].split(" (")[0] in text.replace("\n", " ")
    out = ok_json(run("next", coco_nc, "--target", "0.45", "--method", "weights", "--json"))  # n needed
    assert out["kind"] == "data_needed" and out["uncertainty_unit"] == "doublings" and out["prob"] == 0.8


@pytest.mark.sampling
def test_next_refits_on_the_seed_file(seed_csv):
    """From a data file, with the default (auto: the model has a discrepancy term, so refits)."""
    r = run("next", seed_csv, "--curve", "BDD_ssd_resnet101_v1_fpn", "--target", "0.38", "--at", "140000",
            "--candidates", "105000", "--outcomes", "2", "--family", "pow3", *SMALL, "--json")  # fmt: skip
    out = ok_json(r)
    assert out["method"] == "refit" and out["outcomes"] == 2 and [c["n"] for c in out["candidates"]] == [105_000]
    assert out["curve"] == "BDD_ssd_resnet101_v1_fpn" and out["n_max_observed"] == 70_000


@pytest.mark.sampling
def test_compare_on_the_seed_file(seed_csv, tmp_path):
    args = ["compare", seed_csv, "--curve", "BDD_ssd_mobilenet_v2", "--curve", "BDD_ssd_resnet101_v1_fpn",
            "--family", "pow3", *SMALL]  # fmt: skip
    png = tmp_path / "pair.png"
    out = ok_json(run(*args, "--at", "20000", "--at", "70000", "--target", "0.2", "-o", png, "--json"))
    assert (out["a"], out["b"], out["independent"]) == ("BDD_ssd_mobilenet_v2", "BDD_ssd_resnet101_v1_fpn", True)
    assert [row["n"] for row in out["at"]] == [20_000, 70_000]
    assert all(row["p_a_better"] < 0.05 and row["diff_median"] < 0 for row in out["at"])  # ResNet-101 is better
    assert out["reach"]["first"] == "B" and out["fit_a"]["curve"] == "BDD_ssd_mobilenet_v2"
    assert out["fit_b"]["diagnostics"]["divergences"] >= 0 and out["x_unit"] == "samples"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = run(*args, "--x-unit", "images", "--y-unit", "mAP").stdout
    assert "P(A better)" in text and "images" in text and "the two fits are independent" in text
    assert re.search(r"no crossing within 700 - 700,000 images|crossing: ", text)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["plot", "{data}", "-o", "{tmp}/p.png", "--max-n", "-5"], "--max-n must be a number > 0"),
        (["report", "{data}", "-o", "{tmp}/r.html", "--max-n", "0"], "--max-n must be a number > 0"),
        (["priors", "compare", "{data}", "--priors", "default", "--prob", "7"], "--prob must lie strictly"),
        (["priors", "compare", "{data}", "--priors", "default", "--at", "-1"], "sizes n must be finite numbers > 0"),
        (["priors", "compare", "{data}", "--priors", "default", "--max-n", "-1"], "--max-n must be a number > 0"),
        (["compare", "{data}", "--curve", "a", "--curve", "b", "--max-n", "0"], "--max-n must be a number > 0"),
        (["batch", "{data}", "-o", "{tmp}/b.csv", "--at", "1e5", "--prob", "2"], "--prob must lie strictly"),
        (["backtest", "{data}", "--limit", "-1"], "--limit must be at least 1, got -1"),
        (["backtest", "{data}", "--limit", "0"], "--limit must be at least 1, got 0"),
    ],
)
def test_options_are_refused_before_any_fit(args, match, captured, loss_file, tmp_path):
    r = run(*[a.format(data=loss_file, tmp=tmp_path) for a in args], "--x", "budget", "--y", "err_rate")
    assert r.exit_code == 2 and match in r.output and "Traceback" not in r.output, r.output
    assert not captured and "captured" not in r.output  # refused before any fit
    assert not list(tmp_path.glob("[prb].*"))  # nothing written
