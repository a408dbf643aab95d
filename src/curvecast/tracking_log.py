"""A forecast logged back to MLflow, as a run of its own next to the runs it came from.

The run is tagged ``curvecast.forecast = true`` (so curvecast never reads it as
data) and holds:

* the answers as metrics (``p_reach_at_100000``, ``n_needed``, ``p_never``,
  ``gain_10000``, the diagnostics, ...) and the question and model as params;
* the answers in words as the run's description (``mlflow.note.content``);
* artifacts: the fan chart (``forecast.png``), the saved fit (``fit.nc``, which
  ``curvecast.load`` reads), the one-file report (``report.html``), the answers
  (``answers.json``) and the data (``data.csv``).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.answers import Question, answers, metric_name, sentences
from curvecast.errors import CurvecastError
from curvecast.outputs import to_json
from curvecast.persist import save
from curvecast.plotting import plot_forecast
from curvecast.report import write_report
from curvecast.results import Forecast
from curvecast.tracking import FORECAST_TAG, client, experiment_name, import_mlflow, is_source, resolve_uri

#: the files every forecast run holds
ARTIFACTS = ("forecast.png", "fit.nc", "report.html", "answers.json", "data.csv")


def destination(experiment: str | None) -> str:
    """The experiment to log to: ``experiment``, else ``MLFLOW_EXPERIMENT_NAME``; else an error."""
    name = experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if not name:
        raise CurvecastError(
            "logging to MLflow needs an experiment: read the curve from mlflow:EXPERIMENT, "
            "or set MLFLOW_EXPERIMENT_NAME=NAME (in Python: log_forecast(fit, experiment=NAME))"
        )
    return experiment_name(name)


def destination_of(source: Any) -> str:
    """The experiment a forecast of ``source`` is logged to: its own (``mlflow:EXP``), else
    ``MLFLOW_EXPERIMENT_NAME``. Refuses (naming the pip command when MLflow is missing) before any work."""
    import_mlflow()
    return destination(experiment_name(source) if is_source(source) else None)


def _key(text: str) -> str:
    """A metric name MLflow accepts (letters, digits, ``_ - . /``)."""
    return re.sub(r"[^\w\-./]", "_", text)


def _n(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:g}"


def metrics_of(a: dict[str, Any]) -> dict[str, float]:
    """The answers as MLflow metrics; infinite values (``never``) are left out (see :func:`params_of`)."""
    out: dict[str, float] = {"n_current": a["n_current"], "n_points": a["n_points"]}
    for r in a["at"]:
        n = _n(r["n"])
        out |= {f"median_at_{n}": r["median"], f"lower_at_{n}": r["lower"], f"upper_at_{n}": r["upper"]}
        if "p_reach" in r:
            out[f"p_reach_at_{n}"] = r["p_reach"]
    need = a["need"] or {}
    if need:
        out |= {"n_needed": need["n_needed"], "n_median": need["n_median"]}
        out |= {"n_lower": need["interval"][0], "n_upper": need["interval"][1]}
    for k in (
        "p_never",
        "p_reached_now",
        "extra_samples",
        "cost_at_prob",
        "expected_cost_if_reached",
        "median_cost_if_reached",
    ):
        if k in need:
            out[k] = need[k]
    for r in a["next"]:
        s = _n(r["step"])
        out |= {f"gain_{s}": r["mean"], f"gain_{s}_lower": r["lower"], f"gain_{s}_upper": r["upper"]}
    d = a["diagnostics"]
    out |= {k: d[k] for k in ("divergences", "rhat_max", "ess_bulk_min", "ess_tail_min")}
    out["diagnostics_ok"] = float(bool(d["ok"]))
    return {_key(k): float(v) for k, v in out.items() if v is not None and math.isfinite(float(v))}


def params_of(fit: Forecast, a: dict[str, Any], q: Question, source: str | None, metric: str | None) -> dict[str, str]:
    from curvecast import __version__

    d, s = fit.data, fit.settings
    out: dict[str, Any] = {
        "curve": d.name,
        "model": fit.label,
        "families": "+".join(fit.weights_table()),
        "bounded": fit.bounded,
        "increasing": d.increasing,
        "metric_min": d.metric_min,
        "metric_max": d.metric_max,
        "target": q.target,
        "prob": q.prob,
        "at": ",".join(_n(r["n"]) for r in a["at"]),
        "steps": ",".join(_n(r["step"]) for r in a["next"]),
        "cost_per_sample": q.cost_per_sample,
        "source": source,
        "metric": metric,
        "curvecast_version": __version__,
        **{k: s.get(k) for k in ("draws", "tune", "chains", "seed", "engine")},
    }
    need = a["need"]
    if need is not None and not math.isfinite(need["n_needed"]):
        out["n_needed"] = f"never (not reached with P = {q.prob:g} at any size)"
    return {k: str(v)[:500] for k, v in out.items() if v is not None}


def _files(fit: Forecast, a: dict[str, Any], q: Question, tmp: Path, source: str | None, metric: str | None) -> None:
    save(fit, tmp / "fit.nc")
    plot_forecast(fit, tmp / "forecast.png", target=q.target, max_n=q.max_n, prob=q.prob)
    sizes = [r["n"] for r in a["at"]]
    write_report(
        fit, tmp / "report.html", target=q.target, at=sizes, prob=q.prob, step=q.step,
        cost_per_sample=q.cost_per_sample, max_n=q.max_n, source=source, metric=metric,
    )  # fmt: skip
    (tmp / "answers.json").write_text(to_json(a, indent=1) + "\n")
    rows = "\n".join(f"{n:g},{y:.10g}" for n, y in zip(fit.data.n, fit.data.y, strict=True))
    (tmp / "data.csv").write_text(f"n,{a['y_unit'] if metric == 'the metric' else metric}\n{rows}\n")


def log_forecast(
    fit: Forecast,
    experiment: str | None = None,
    *,
    target: float | None = None,
    at: Any = None,
    prob: float = 0.8,
    step: float | None = None,
    cost_per_sample: float | None = None,
    max_n: float | None = None,
    tracking_uri: str | None = None,
    source: str | None = None,
    metric: str | None = None,
    run_name: str | None = None,
) -> str:
    """Log ``fit``'s answers to the question (``target``, ``at``, ``prob``, ``step``,
    ``cost_per_sample``; see :class:`curvecast.answers.Question`) as a new, finished run
    in ``experiment`` (default: ``MLFLOW_EXPERIMENT_NAME``; created if missing).

    Returns the run's id. ``source`` and ``metric`` describe the data (e.g.
    ``"mlflow:detector (params.train_size -> metrics.val_map)"`` and ``"val_map"``).
    """
    from curvecast import __version__

    name = destination(experiment)
    at_sizes = () if at is None else tuple(float(v) for v in np.atleast_1d(np.asarray(at, float)))
    q = Question(target, at_sizes, prob, step, cost_per_sample, max_n).check(fit)
    a = answers(fit, q)
    uri = resolve_uri(tracking_uri)
    metric = metric or metric_name(a)
    words = sentences(a, metric)
    tags = {
        FORECAST_TAG: "true",
        "curvecast.curve": fit.data.name,
        "curvecast.model": fit.label,
        "curvecast.version": __version__,
        "mlflow.note.content": "**curvecast forecast**\n\n" + "\n".join(f"- {s}" for s in words),
    }
    with tempfile.TemporaryDirectory(prefix="curvecast-mlflow-") as tmp:
        _files(fit, a, q, Path(tmp), source, metric)
        with client(uri, reading=False) as c:
            from mlflow.entities import Metric, Param, RunTag

            exp = c.get_experiment_by_name(name)
            exp_id = exp.experiment_id if exp is not None else c.create_experiment(name)
            run = c.create_run(exp_id, run_name=run_name or f"curvecast forecast: {fit.data.name}", tags=tags)
            run_id = run.info.run_id
            try:
                now = int(time.time() * 1000)
                c.log_batch(
                    run_id,
                    metrics=[Metric(k, v, now, 0) for k, v in metrics_of(a).items()],
                    params=[Param(k, v) for k, v in params_of(fit, a, q, source, metric).items()],
                    tags=[RunTag("curvecast.experiment", name)],
                )
                for f in ARTIFACTS:
                    c.log_artifact(run_id, str(Path(tmp) / f))
            except BaseException:
                c.set_terminated(run_id, "FAILED")
                raise
            c.set_terminated(run_id, "FINISHED")
    return str(run_id)
