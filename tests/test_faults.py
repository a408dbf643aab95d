"""Faults a careless or hostile user causes: real Ctrl-C (SIGINT) on real processes, outputs that
would overwrite inputs, a planted module in the working directory, markup and numbers that
used to crash or answer silently wrong. Each must end in a clear message, exit code 2 or 130,
and no lost or corrupt file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curvecast.cli import app
from tests.conftest import COCO_N, COCO_Y

CURVECAST = str(Path(sys.executable).parent / "curvecast")
DATA = Path(__file__).resolve().parent / "data"


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def coco_csv(tmp_path) -> Path:
    path = tmp_path / "coco.csv"
    path.write_text("images,map\n" + "".join(f"{n:.0f},{y}\n" for n, y in zip(COCO_N, COCO_Y, strict=True)))
    return path


@pytest.fixture
def many_csv(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        f"c{k},{n},{0.8 - 0.5 * (n / 1000) ** -0.4 + rng.normal(0, 0.005):.4f}"
        for k in range(30)
        for n in (1000, 2000, 4000, 8000, 16000)
    ]
    path = tmp_path / "many.csv"
    path.write_text("curve,n,metric\n" + "\n".join(rows) + "\n")
    return path


def _interrupt(args: list[str], after: float, cwd: Path) -> subprocess.CompletedProcess:
    """Start ``curvecast ARGS`` in its own process group, send SIGINT after ``after`` seconds."""
    proc = subprocess.Popen([CURVECAST, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and p.suffix == ".tmp"]


# -- Ctrl-C ---------------------------------------------------------------------------
@pytest.mark.sampling
@pytest.mark.parametrize("after", [2.5, 7.0], ids=["early", "sampling"])
def test_ctrl_c_during_a_fit_keeps_the_good_file(coco_csv, tmp_path, after):
    good = tmp_path / "fit.nc"
    shutil.copyfile(DATA / "v0.1.0_single.nc", good)
    before = good.read_bytes()
    r = _interrupt(["fit", str(coco_csv), "-o", str(good), "--draws", "400000"], after, tmp_path)
    assert r.returncode == 130, r.stderr
    assert "interrupted" in r.stderr and "Traceback" not in r.stderr
    assert good.read_bytes() == before and not _leftovers(tmp_path)


@pytest.mark.sampling
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_in_a_batch_keeps_finished_curves_marked_interrupted(many_csv, tmp_path, jobs):
    out = tmp_path / "answers.csv"
    args = ["batch", str(many_csv), "-o", str(out), "--at", "100000", "--jobs", jobs, "--draws", "5000"]
    r = _interrupt(args, 10.0, tmp_path)
    assert r.returncode == 130, r.stderr
    assert "Traceback" not in r.stderr and not _leftovers(tmp_path)
    if out.exists():  # whatever finished before Ctrl-C, whole and marked
        df = pd.read_csv(out)
        assert 0 < len(df) < 30 and set(df["run_status"]) == {"interrupted"}
        assert df["median@100000"].notna().all()
    else:
        assert "0 finished" in r.stderr


def _rows_in(path: Path) -> int:
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


@pytest.mark.sampling
def test_a_killed_worker_ends_the_batch_with_a_clear_error_and_resume_finishes_it(many_csv, tmp_path):
    """An out-of-memory kill of one local worker used to hang the run for ever."""
    out = tmp_path / "answers.csv"
    args = [CURVECAST, "batch", str(many_csv), "-o", str(out), "--at", "100000", "--jobs", "2", "--draws", "300"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while _rows_in(out) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    workers = [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert proc.poll() is None and workers, "the batch ended before a worker could be killed"
    os.kill(int(workers[0]), signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "a worker process died" in err and "--resume" in err and "Traceback" not in err
    kept = pd.read_csv(out)
    assert 2 <= len(kept) < 30 and set(kept["run_status"]) == {"interrupted"} and kept["error"].isna().all()
    r = run("batch", many_csv, "-o", out, "--at", "100000", "--jobs", "1", "--draws", "300", "--resume")
    assert r.exit_code == 0, r.output
    done = pd.read_csv(out)
    assert len(done) == 30 and done["curve"].is_unique and set(done["run_status"]) == {"complete"}


# -- outputs that would destroy inputs -----------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["batch", "{csv}", "-o", "{csv}", "--at", "1000"],
        ["backtest", "{csv}", "--out", "{csv}"],
        ["fit", "{csv}", "-o", "{dir}"],
        ["plot", "{csv}", "-o", "{dir}/missing/x.png"],
        ["fit", "{csv}", "-o", "{nc}"],
    ],
    ids=["batch-onto-input", "backtest-onto-input", "output-is-a-directory", "missing-directory", "nc-onto-nc"],
)
def test_outputs_that_would_destroy_inputs_are_refused_before_any_work(coco_csv, tmp_path, args):
    nc = tmp_path / "fit.nc"
    shutil.copyfile(DATA / "v0.1.0_single.nc", nc)
    before = coco_csv.read_bytes(), nc.read_bytes()
    filled = [a.format(csv=coco_csv, dir=tmp_path, nc=nc) for a in args]
    if args[0] == "fit" and "{nc}" in args:
        filled[1] = str(nc)  # a saved fit as the source, written onto itself
    t0 = time.perf_counter()
    r = run(*filled)
    assert r.exit_code == 2 and "Error" in r.output, r.output
    assert time.perf_counter() - t0 < 5  # refused before sampling
    assert (coco_csv.read_bytes(), nc.read_bytes()) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_output_directory_is_refused_before_any_work(coco_csv, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    r = run("fit", coco_csv, "-o", ro / "x.nc")
    assert r.exit_code == 2 and "not writable" in r.output


def test_pooled_curve_names_that_map_to_one_file_are_refused(tmp_path):
    path = tmp_path / "two.csv"
    rows = [f"{name},{n},{0.1 + 0.05 * i}" for name in ("a/b", "a_b") for i, n in enumerate((10, 20, 40, 80))]
    path.write_text("curve,n,metric\n" + "\n".join(rows) + "\n")
    r = run("fit", path, "--pool", "-o", tmp_path / "p.nc")
    assert r.exit_code == 2 and "'a/b' and 'a_b' would both be written" in r.output
    assert not list(tmp_path.glob("p.*.nc"))


# -- a hostile working directory ------------------------------------------------------
@pytest.mark.sampling
def test_a_planted_module_in_the_working_directory_never_runs(many_csv, tmp_path):
    planted = tmp_path / "json.py"
    planted.write_text(f"open({str(tmp_path / 'PWNED')!r}, 'w').write('ran')\nraise SystemExit('planted code ran')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for args in (
        ["prob", str(many_csv), "--curve", "c0", "--target", "0.7", "--at", "100000", "--draws", "200"],
        ["batch", str(many_csv), "-o", "a.csv", "--at", "1000", "--limit", "2", "--jobs", "2", "--draws", "200"],
    ):
        r = subprocess.run([CURVECAST, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert not (tmp_path / "PWNED").exists(), args[0]


# -- answers that used to be silently wrong or crash ------------------------------------
@pytest.mark.parametrize("start", ["-5", "nan", "0"])
def test_gain_from_a_meaningless_start_exits_2(start):
    nc = DATA / "v0.1.0_single.nc"
    r = run("gain", nc, "--step", "1000", f"--from={start}")
    assert r.exit_code == 2 and "--from" in r.output


@pytest.mark.parametrize("seed", ["-1", "18446744073709551616"])
def test_seeds_outside_the_engines_range_exit_2(coco_csv, seed):
    r = run("prob", coco_csv, "--target", "0.5", "--at", "1e5", f"--seed={seed}")
    assert r.exit_code == 2 and "seed" in r.output


@pytest.mark.parametrize("bad", ["0", "-3", "nan"])
def test_bad_sizes_are_refused_before_the_fit(coco_csv, bad):
    t0 = time.perf_counter()
    r = run("prob", coco_csv, "--target", "0.5", f"--at={bad}")
    assert r.exit_code == 2 and time.perf_counter() - t0 < 5


@pytest.mark.sampling
def test_markup_in_curve_names_is_printed_as_text(tmp_path):
    path = tmp_path / "m.csv"
    rows = [f"{name},{n},{0.1 + 0.05 * i}" for name in ("run[/b]", "yolo[v2]") for i, n in enumerate((10, 20, 40, 80))]
    path.write_text("curve,n,metric\n" + "\n".join(rows) + "\n")
    r = run("predict", path, "--curve", "yolo[v2]", "--at", "200", "--draws", "200")
    assert r.exit_code == 0 and "yolo[v2]" in r.output
    r = run("predict", path, "--curve", "run[/b]", "--at", "200", "--draws", "200")
    assert r.exit_code == 0 and "run[/b]" in r.output
    r = run("predict", path, "--at", "200")
    assert r.exit_code == 2 and "yolo[v2]" in r.output and "run[/b]" in r.output


def test_json_writes_no_infinity_strings():
    r = run("need", DATA / "v0.1.0_single.nc", "--target", "0.45", "--prob", "0.95", "--json")
    out = json.loads(r.output)
    assert out["n_needed"] is None and out["p_never"] > 0.05  # never reached with P = 0.95: infinite, as null
    assert "inf" not in r.output.replace("interval", "").lower().split("problems")[0]


@pytest.mark.sampling
def test_a_curve_with_too_few_points_gets_an_error_row_not_an_aborted_batch(tmp_path):
    path = tmp_path / "mixed.csv"
    good = [f"good,{n},{0.1 + 0.05 * i}" for i, n in enumerate((10, 20, 40, 80))]
    path.write_text("curve,n,metric\n" + "\n".join([*good, "short,10,0.1", "short,20,0.2"]) + "\n")
    r = run("batch", path, "-o", tmp_path / "a.csv", "--at", "100", "--draws", "200")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "a.csv").set_index("curve")
    assert "at least 3 distinct n" in df.loc["short", "error"] and np.isfinite(df.loc["good", "median@100"])


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('alpha = { dist = "LogNormal", mu = 1e308, sigma = 1.0 }', r"[pow3].alpha = LogNormal(mu=1e+308"),
        (
            'y_ref = { dist = "TruncatedNormal", mu = "y_last", sigma = 0.1, '
            'lower = "metric_max", upper = "metric_min" }',
            "[pow3].y_ref = TruncatedNormal",
        ),
        ('alpha = { dist = "Bogus" }', "[pow3].alpha: unknown distribution"),
    ],
    ids=["absurd-magnitude", "bounds-reversed-for-this-curve", "unknown-distribution"],
)
def test_priors_that_cannot_be_sampled_exit_2_fast_with_their_label(coco_csv, tmp_path, line, match):
    priors = tmp_path / "p.toml"
    priors.write_text(f"[pow3]\n{line}\n")
    t0 = time.perf_counter()
    r = run("prob", coco_csv, "--target", "0.5", "--at", "1e5", "--priors", priors)
    assert r.exit_code == 2 and match in r.output, r.output
    assert time.perf_counter() - t0 < 10  # refused before sampling, not after a failed initialisation
