"""``batch`` on a real Dask LocalCluster (2 worker processes on 127.0.0.1): the same answers as in one
process, Parquet output, a failing curve's row, Ctrl-C and ``kill -9`` of the client then ``--resume``
without a repeated curve, and a worker killed in the middle of a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curvecast.batch import Batch
from curvecast.cli import app
from curvecast.distributed import DaskRunner, plugin_state

pytestmark = pytest.mark.sampling

CURVECAST = str(Path(sys.executable).parent / "curvecast")
SMALL = ["--draws", "100", "--chains", "2", "--seed", "3"]
ASK = ["--at", "20000", "--target", "0.85"]
#: the answer columns (not the time taken, not the run's status)
ANSWERS = ["curve", "family", "n_points", "n_max", "median@20000", "q5@20000", "q95@20000", "p_reach_0.85@20000",
           "n_needed_0.85_p0.8", "p_never_0.85", "divergences", "rhat_max", "ess_bulk_min", "ess_tail_min",
           "diagnostics_ok", "problems", "error"]  # fmt: skip


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def write_curves(path: Path, k: int, *, short: bool = False) -> list[str]:
    """``k`` saturating accuracy curves with a little noise (and a curve of two points that cannot be fitted)."""
    rng = np.random.default_rng(k)
    names, rows = [], []
    for i in range(k):
        names.append(f"c{i:02d}")
        a, b = 0.25 + 0.3 * rng.random(), 0.3 + 0.3 * rng.random()
        ys = 0.92 - a * (np.array([100, 200, 400, 800, 1600]) / 100) ** -b + rng.normal(0, 0.003, 5)
        rows += [f"c{i:02d},{n},{v:.4f}" for n, v in zip((100, 200, 400, 800, 1600), ys, strict=True)]
    if short:
        names.append("short")
        rows += ["short,100,0.5", "short,200,0.6"]
    path.write_text("curve,n,metric\n" + "\n".join(rows) + "\n")
    return names


def rows_in(path: Path) -> int:
    try:
        return max(0, sum(1 for line in path.read_text().splitlines() if line) - 1)
    except FileNotFoundError:
        return 0


def start(args: list[object], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [CURVECAST, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def stop_when(proc: subprocess.Popen, out: Path, rows: int, sig: int) -> tuple[int, str]:
    """Send ``sig`` to ``proc`` once ``out`` holds ``rows`` rows; its exit code and stderr."""
    deadline = time.monotonic() + 240
    while rows_in(out) < rows and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None, f"finished before it could be stopped: {proc.communicate()}"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.fixture(scope="module")
def cluster():
    """A real LocalCluster: 2 single-threaded worker processes on 127.0.0.1."""
    with DaskRunner(None, workers=2) as runner:
        yield runner


@pytest.fixture
def address(cluster) -> str:
    return cluster.client.scheduler.address


def test_same_answers_in_one_process_and_on_the_cluster_with_parquet_and_a_failing_curve(tmp_path, cluster, address):
    src = tmp_path / "curves.csv"
    names = write_curves(src, 4, short=True)
    local, dask = tmp_path / "local.csv", tmp_path / "dask.parquet"
    one = run("batch", src, "-o", local, *ASK, *SMALL, "--jobs", "1", "--json")
    assert one.exit_code == 0, one.output
    r = run("batch", src, "-o", dask, *ASK, *SMALL, "--scheduler", address, "--json")
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout)
    assert (stats["curves"], stats["answered"], stats["failed"], stats["skipped"]) == (5, 4, 1, 0)
    assert stats["engine"].startswith("Dask scheduler") and stats["run_status"] == "complete"
    a, b = pd.read_csv(local), pd.read_parquet(dask)
    assert list(a.curve) == list(b.curve) == names  # the input's order, each curve once
    assert set(a.run_status) == set(b.run_status) == {"complete"}
    assert "at least 3 distinct n" in b.set_index("curve").loc["short", "error"]
    good_a, good_b = a[a.curve != "short"], b[b.curve != "short"]
    assert good_b.error.isna().all() and (good_b["q5@20000"] < good_b["q95@20000"]).all()
    for col in ANSWERS[1:-1]:  # the same seed gives the same numbers, whichever engine
        np.testing.assert_array_equal(good_a[col].to_numpy(), good_b[col].to_numpy(), err_msg=col)
    states = cluster.client.run(plugin_state).values()
    assert [s["setups"] for s in states] == [1, 1]  # each worker was set up once ...
    assert len({s["pid"] for s in states} | {os.getpid()}) == 3  # ... in a process of its own


def test_local_cluster_from_the_command_line_prints_the_dashboard_then_resume_skips_what_is_there(tmp_path):
    src = tmp_path / "curves.csv"
    names = write_curves(src, 3)
    out = tmp_path / "a.csv"
    r = run("batch", src, "-o", out, *ASK, *SMALL, "--scheduler", "local", "--workers", "2", "--limit", "2")
    assert r.exit_code == 0, r.output
    assert "Dask dashboard: http://127.0.0.1:" in r.output and "2 answered, 0 failed" in r.output
    first = pd.read_csv(out)
    r = run("batch", src, "-o", out, *ASK, *SMALL, "--jobs", "1", "--resume", "--json")
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout)
    assert (stats["answered"], stats["skipped"]) == (1, 2)
    after = pd.read_csv(out)
    assert list(after.curve) == names and set(after.run_status) == {"complete"}
    pd.testing.assert_frame_equal(after[ANSWERS].iloc[:2], first[ANSWERS])  # kept as they were


def test_ctrl_c_then_kill_9_of_the_client_then_resume_never_repeats_a_curve(tmp_path, address):
    src, out = tmp_path / "curves.csv", tmp_path / "answers.csv"
    names = write_curves(src, 10)
    args = ["batch", src, "-o", out, *ASK, *SMALL, "--scheduler", address]
    code, err = stop_when(start(args, tmp_path), out, 3, signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err and "interrupted" in err
    kept = pd.read_csv(out)
    assert 3 <= len(kept) < 10 and set(kept.run_status) == {"interrupted"} and kept.curve.is_unique

    code, err = stop_when(start([*args, "--resume"], tmp_path), out, 5, signal.SIGKILL)  # at about half
    assert code == -signal.SIGKILL
    killed = pd.read_csv(out)
    assert 5 <= len(killed) < 10 and killed.curve.is_unique
    assert set(killed.run_status) <= {"interrupted", "incomplete"} and "incomplete" in set(killed.run_status)

    r = run(*args, "--resume", "--json")
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout)
    assert stats["skipped"] == len(killed) and stats["answered"] == 10 - len(killed)
    final = pd.read_csv(out)
    assert list(final.curve) == names and set(final.run_status) == {"complete"} and final.error.isna().all()
    before = kept.set_index("curve")[ANSWERS[1:]]
    pd.testing.assert_frame_equal(final.set_index("curve").loc[before.index, ANSWERS[1:]], before)  # untouched


def test_a_worker_killed_in_the_middle_of_a_run_loses_and_repeats_no_curve(tmp_path, cluster):
    src, out = tmp_path / "curves.csv", tmp_path / "answers.csv"
    names = write_curves(src, 8)
    pids = [s["pid"] for s in cluster.client.run(plugin_state).values()]
    batch = Batch(src, out, at=[20000], targets=[0.85], fit_kwargs={"draws": 100, "chains": 2, "seed": 3})

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 120
        while rows_in(out) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)  # a worker of this test's own cluster, mid-curve

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    stats = batch.run(cluster)
    killer.join()
    final = pd.read_csv(out)
    assert list(final.curve) == names and final.error.isna().all(), final[["curve", "error"]]
    assert (stats["answered"], stats["failed"]) == (8, 0) and set(final.run_status) == {"complete"}
    assert pids[0] not in {s["pid"] for s in cluster.client.run(plugin_state).values()}  # restarted by its nanny


def test_backtest_on_the_cluster_scores_like_one_process(seed_csv, cluster, address):
    import curvecast as cc
    from curvecast.backtest import run_backtest
    from curvecast.data import CurveData

    curves = [CurveData(n, y, name=k) for k, (n, y) in cc.load_curves(seed_csv).items()][:2]
    kw = {"draws": 100, "chains": 2}
    here = run_backtest(curves, 0.1, fit_kwargs=kw, seed=3, jobs=1)
    there = run_backtest(curves, 0.1, fit_kwargs=kw, seed=3, scheduler=cluster)
    assert [r["curve"] for r in there["curves"]] == [r["curve"] for r in here["curves"]] == [c.name for c in curves]
    for a, b in zip(here["curves"], there["curves"], strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    r = run("backtest", seed_csv, "--limit", "1", *SMALL, "--scheduler", address, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_curves"] == 1
