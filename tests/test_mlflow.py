"""Curves read from MLflow and forecasts logged back, against a real tracking server.

The server (``mlflow server`` with a SQLite backend store in a temp directory, on
127.0.0.1) is started once for this module and stopped at its end, each within a
bounded time. Runs are logged through ``MlflowClient``; curvecast reads them back,
forecasts, logs the forecast, and the forecast run and its artifacts are read back
through the client. The local file store (``file:`` URI) is tested too.
``python -m pytest -m mlflow`` runs these tests alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import curvecast as cc
from curvecast.cli import app
from curvecast.errors import CurvecastError
from curvecast.tracking import FORECAST_TAG, PIP_HINT

pytestmark = pytest.mark.mlflow

runner = CliRunner()
START_TIMEOUT, STOP_TIMEOUT = 120.0, 3.0
SMALL = ["--draws", "200", "--chains", "2", "--seed", "1"]
#: per backbone: (asymptote, scale, rate) of a pow3 curve; two replicate runs per size
TRUTH = {"r50": (0.62, 2.2, 0.45), "r101": (0.66, 2.0, 0.42)}
SIZES = (1000, 2000, 4000, 8000)
COLS = ["--x", "params.train_size", "--y", "metrics.val_map", "--curve-by", "params.backbone"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``mlflow server`` on 127.0.0.1 with a SQLite store; its URL. Stopped (its whole process group) at the end."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("w")
    store = ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination", str(root / "art")]
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    cmd += store
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start: {(root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.25)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:  # its store is a temp directory: nothing to lose
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
        log.close()


def _quiet_client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _log_runs(uri: str, experiment: str) -> dict[str, list[tuple[str, int, float]]]:
    """The detector study: 2 backbones x 4 sizes x 2 replicates, finished; plus 4 runs curvecast must skip.
    Returns ``{backbone: [(run_id, size, val_map)]}`` of the finished, complete runs."""
    from concurrent.futures import ThreadPoolExecutor

    from mlflow.entities import Metric, Param

    c = _quiet_client(uri)
    rng = np.random.default_rng(7)
    eid = c.create_experiment(experiment)
    specs = []  # (run name, params, metrics, final status or None: still running)
    for bb, (top, a, rate) in TRUTH.items():
        for n in SIZES:
            for rep in range(2):
                value = float(top - a * n**-rate + rng.normal(0, 0.003))
                params = {"train_size": n, "backbone": bb, "seed": rep}
                specs.append((f"{bb}-{n}-{rep}", params, {"val_loss": 1 - value, "val_map": value}, "FINISHED"))
    specs += [
        ("r50-32000-running", {"train_size": 32000, "backbone": "r50"}, {"val_map": 0.9}, None),  # not finished
        ("r50-32000-failed", {"train_size": 32000, "backbone": "r50"}, {"val_map": 0.9}, "FAILED"),
        ("sweep-parent", {"backbone": "r50"}, {"val_map": 0.9}, "FINISHED"),  # lacks train_size
        ("full-data", {"train_size": "full", "backbone": "r50"}, {"val_map": 0.9}, "FINISHED"),  # not a number
    ]

    def log(spec: tuple) -> str:
        name, params, metrics, status = spec
        run_id = c.create_run(eid, run_name=name).info.run_id
        now = int(time.time() * 1000)
        c.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
                    params=[Param(k, str(v)) for k, v in params.items()])  # fmt: skip
        if status is not None:
            c.set_terminated(run_id, status)
        return run_id

    with contextlib.redirect_stdout(sys.stderr), ThreadPoolExecutor(4) as pool:  # a few requests at a time
        ids = list(pool.map(log, specs))
    logged: dict[str, list[tuple[str, int, float]]] = {}
    for run_id, (_, params, metrics, _) in zip(ids[: 2 * len(SIZES) * len(TRUTH)], specs, strict=False):
        logged.setdefault(params["backbone"], []).append((run_id, params["train_size"], metrics["val_map"]))
    return logged


@pytest.fixture(scope="module")
def study(server):
    return _log_runs(server, "detector")


def run_cli(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


# -- reading: no sampling ---------------------------------------------------------------
def test_from_mlflow_reads_finished_runs_as_replicates(server, study):
    curves = cc.from_mlflow("detector", x="params.train_size", y="metrics.val_map", curve_by="params.backbone",
                            tracking_uri=server)  # fmt: skip
    assert set(curves) == {"r50", "r101"}
    for bb, logged in study.items():
        n, y = curves[bb]
        want = sorted(logged, key=lambda r: r[1])
        assert n.tolist() == [float(r[1]) for r in want]  # two runs at each size: replicates, kept
        assert sorted(y.tolist()) == pytest.approx(sorted(r[2] for r in logged), abs=0)
        assert sorted(curves.run_ids[bb]) == sorted(r[0] for r in logged)
    assert curves.runs_used == 16
    assert curves.skipped == {"not finished": 2, "without params.train_size": 1, "params.train_size not a number": 1}
    assert "skipped 4 run(s)" in curves.note and "not finished 2" in curves.note
    assert (curves.x_column, curves.y_column) == ("train_size", "val_map")


def test_bare_column_names_prefix_and_experiment_id(server, study):
    by_name = cc.from_mlflow("mlflow:detector", x="train_size", y="val_map", tracking_uri=server)
    assert list(by_name) == ["detector"] and by_name["detector"][0].size == 16
    exp_id = _quiet_client(server).get_experiment_by_name("detector").experiment_id
    by_id = cc.from_mlflow(exp_id, x="train_size", y="val_map", tracking_uri=server)
    assert by_id["detector"][1].tolist() == by_name["detector"][1].tolist()


def test_tracking_uri_from_the_environment(server, study, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    assert cc.from_mlflow("detector", x="train_size", y="val_map").tracking_uri == server


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["mlflow:nope", *COLS], r"no MLflow experiment 'nope' at .*experiments: .*'Default'.*'detector'"),
        (["mlflow:detector", "--x", "params.size", "--y", "metrics.val_map"],
         r"has --x 'params.size'.*params: backbone, seed, train_size; metrics: val_loss, val_map"),
        (["mlflow:detector", "--x", "train_size", "--y", "val_mAP"], r"--y 'val_mAP'.*metrics: val_loss, val_map"),
        (["mlflow:detector", "--y", "metrics.val_map"], r"needs --x and --y.*params: backbone, seed, train_size"),
        (["mlflow:detector", *COLS[:4], "--curve-by", "params.arch"], r"--curve-by 'params.arch'"),
        (["mlflow:detector", *COLS, "--curve", "r18"], r"no curve named 'r18'"),
        (["mlflow:", *COLS], r"names no experiment"),
    ],
    ids=["experiment", "x", "y", "missing-x", "curve-by", "curve", "empty"],
)  # fmt: skip
def test_unknown_experiment_or_column_exits_2_listing_what_exists(server, study, args, match):
    r = run_cli("prob", *args, "--tracking-uri", server, "--target", "0.5", "--at", "1e5", *SMALL)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert re.search(match, " ".join(r.output.split())), r.output


def test_unreachable_server_fails_fast():
    start = time.monotonic()
    r = run_cli("prob", "mlflow:detector", *COLS, "--tracking-uri", f"http://127.0.0.1:{_free_port()}",
                "--target", "0.5", "--at", "1e5")  # fmt: skip
    assert r.exit_code == 2 and "cannot reach the MLflow tracking server" in r.output
    assert time.monotonic() - start < 15  # MLflow's own client would retry for minutes


def test_missing_local_store_is_not_created(tmp_path):
    db = tmp_path / "none.db"
    with pytest.raises(CurvecastError, match="no MLflow store at sqlite"):
        cc.from_mlflow("detector", x="train_size", y="val_map", tracking_uri=f"sqlite:///{db}")
    assert not db.exists()


def test_without_mlflow_the_error_names_the_pip_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` now raises ImportError
    with pytest.raises(CurvecastError) as e:
        cc.from_mlflow("detector", x="a", y="b", tracking_uri="http://127.0.0.1:9")
    assert PIP_HINT in str(e.value) and PIP_HINT == 'pip install "curvecast[mlflow]"'
    r = run_cli("prob", "mlflow:detector", "--x", "a", "--y", "b", "--target", "0.5", "--at", "1e5")
    assert r.exit_code == 2 and PIP_HINT in " ".join(r.output.split())
    csv = tmp_path / "c.csv"
    csv.write_text("n,metric\n100,0.2\n200,0.3\n400,0.35\n")
    r = run_cli("prob", csv, "--target", "0.5", "--at", "1e5", "--log-to-mlflow")  # refused before sampling
    assert r.exit_code == 2 and PIP_HINT in " ".join(r.output.split())


def test_log_to_mlflow_needs_an_experiment_for_a_file_source(small_csv, monkeypatch):
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    r = run_cli("prob", small_csv, "--target", "0.5", "--at", "1e5", "--log-to-mlflow")
    assert r.exit_code == 2 and "MLFLOW_EXPERIMENT_NAME" in r.output


# -- read, forecast, log, read back -------------------------------------------------------
@pytest.mark.sampling
def test_prob_from_mlflow_logs_the_forecast_as_its_own_run(server, study, tmp_path):
    r = run_cli("prob", "mlflow:detector", *COLS, "--curve", "r50", "--target", "0.6", "--at", "100000",
                "--tracking-uri", server, "--json", "--log-to-mlflow", *SMALL)  # fmt: skip
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)  # one JSON object on stdout: MLflow's own lines went to stderr
    assert answer["curve"] == "r50" and answer["n_points"] == 8 and answer["n_max_observed"] == 8000
    run_id = answer["mlflow_run_id"]

    c = _quiet_client(server)
    run = c.get_run(run_id)
    exp = c.get_experiment_by_name("detector")
    assert run.info.experiment_id == exp.experiment_id and run.info.status == "FINISHED"
    assert run.data.tags[FORECAST_TAG] == "true" and run.data.tags["curvecast.curve"] == "r50"
    assert "P(val_map ≥ 0.600)" in run.data.tags["mlflow.note.content"]
    m, p = run.data.metrics, run.data.params
    assert m["p_reach_at_100000"] == answer["probability"]
    assert m["n_current"] == 8000 and m["n_points"] == 8 and m["divergences"] == answer["diagnostics"]["divergences"]
    assert {"median_at_100000", "lower_at_100000", "upper_at_100000", "gain_2000", "rhat_max"} <= set(m)
    assert p["target"] == "0.6" and p["at"] == "100000" and p["curve"] == "r50" and p["metric"] == "val_map"
    assert p["source"].startswith("mlflow:detector (params.train_size -> metrics.val_map")

    files = sorted(a.path for a in c.list_artifacts(run_id))
    assert files == ["answers.json", "data.csv", "fit.nc", "forecast.png", "report.html"]
    local = Path(c.download_artifacts(run_id, "", str(tmp_path)))
    saved = cc.load(local / "fit.nc")  # the forecast, versioned next to its runs, answers the same
    assert float(saved.prob(0.6, [100_000])[0]) == answer["probability"]
    assert saved.data.n.tolist() == sorted(float(n) for _, n, _ in study["r50"])
    assert (local / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (local / "report.html").read_text()
    assert html.count("<svg") == 2 and "r50" in html
    assert json.loads((local / "answers.json").read_text())["at"][0]["p_reach"] == answer["probability"]
    assert (local / "data.csv").read_text().splitlines()[0] == "n,val_map"

    again = cc.from_mlflow("detector", x="train_size", y="val_map", curve_by="backbone", tracking_uri=server)
    assert again.runs_used == 16  # the forecast run is never read as data


@pytest.mark.sampling
def test_report_from_mlflow_with_log(server, study, tmp_path):
    out = tmp_path / "r101.html"
    r = run_cli("report", "mlflow:detector", *COLS, "--curve", "r101", "--target", "0.65", "--cost-per-sample",
                "0.05", "-o", out, "--tracking-uri", server, "--log-to-mlflow", *SMALL)  # fmt: skip
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert "mlflow:detector (params.train_size -&gt; metrics.val_map, one curve per params.backbone)" in html
    assert "16 finished runs in 2 curve(s); skipped 4 run(s)" in r.output
    run_id = r.output.split("logged the forecast to MLflow experiment 'detector': run ")[1].split()[0]
    run = _quiet_client(server).get_run(run_id)
    assert run.data.params["cost_per_sample"] == "0.05" and "n_needed" in run.data.metrics | run.data.params


@pytest.mark.sampling  # coco_fit
def test_log_forecast_python_api_creates_the_experiment(server, coco_fit):
    run_id = cc.log_forecast(coco_fit, "coco-forecasts", tracking_uri=server, target=0.5, at=[100_000], step=10_000)
    c = _quiet_client(server)
    run = c.get_run(run_id)
    assert c.get_experiment(run.info.experiment_id).name == "coco-forecasts"
    assert run.data.metrics["p_reach_at_100000"] == float(coco_fit.prob(0.5, [100_000])[0])
    assert run.data.metrics["gain_10000"] == pytest.approx(coco_fit.gain(10_000)["mean"], rel=1e-12)
    need = coco_fit.need(0.5, prob=0.8, interval=0.9)["n_needed"]
    if np.isfinite(need):
        assert run.data.metrics["n_needed"] == need
    else:  # MLflow metrics are finite: "never" is a param
        assert "n_needed" not in run.data.metrics and run.data.params["n_needed"].startswith("never")


# -- the local file store -------------------------------------------------------------------
@pytest.mark.sampling  # coco_fit
def test_file_store_read_and_log(tmp_path, coco_fit, monkeypatch):
    store = tmp_path / "mlruns"
    uri = store.as_uri()
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for it; curvecast sets it itself
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logged = _log_runs(uri, "local")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    curves = cc.from_mlflow("local", x="train_size", y="val_map", curve_by="backbone", tracking_uri=uri)
    assert curves.runs_used == 16 and sorted(curves["r101"][1].tolist()) == sorted(v for *_, v in logged["r101"])
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ  # set only while curvecast used the store
    run_id = cc.log_forecast(coco_fit, "local", tracking_uri=uri, target=0.5)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    c = _quiet_client(uri)
    assert c.get_run(run_id).data.tags[FORECAST_TAG] == "true"
    assert sorted(a.path for a in c.list_artifacts(run_id)) == sorted(
        ["answers.json", "data.csv", "fit.nc", "forecast.png", "report.html"]
    )
    assert list(store.rglob("fit.nc"))  # the artifacts are files in the store


def test_plain_path_is_a_file_store(tmp_path):
    with pytest.raises(CurvecastError, match=r"no MLflow store at .*does not exist"):
        cc.from_mlflow("local", x="train_size", y="val_map", tracking_uri=str(tmp_path / "missing"))


@pytest.mark.sampling
def test_batch_over_an_experiment_keeps_curve_by_and_the_tracking_uri(server, study, tmp_path):
    out = tmp_path / "answers.csv"
    r = run_cli("batch", "mlflow:detector", *COLS, "--tracking-uri", server, "--at", "100000", "-o", out,
                "--jobs", "1", *SMALL)  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = pd.read_csv(out).set_index("curve")
    assert sorted(rows.index) == sorted(TRUTH) and rows["error"].isna().all()  # one curve per params.backbone
    assert (rows["n_points"] == 2 * len(SIZES)).all()
