"""Bulk forecasts: one row of answers per curve (``curvecast batch``)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.inference import fit
from curvecast.parallel import map_curves, n_jobs


def answer_curve(
    data: CurveData, *, at: list[float], targets: list[float], prob: float, fit_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Fit one curve and return its row: bands at ``at``, P(reach) and n needed per target."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit(data=data, **fit_kwargs)
    row: dict[str, Any] = {"curve": data.name, "family": f.label, "n_points": int(data.n.size), "n_max": data.n_ref}
    pred = f.predict(at, interval=0.9)
    for r in pred.itertuples():
        key = f"{r.n:.0f}"
        row[f"median@{key}"] = r.median
        row[f"q5@{key}"] = r.lower
        row[f"q95@{key}"] = r.upper
    for t in targets:
        for n_i, p in zip(at, f.prob(t, at), strict=True):
            row[f"p_reach_{t:g}@{n_i:.0f}"] = float(p)
        need = f.need(t, prob=prob)
        row[f"n_needed_{t:g}_p{prob:g}"] = need["n_needed"]
        row[f"p_never_{t:g}"] = need["p_never"]
    d = f.diagnostics
    row.update(
        divergences=d.divergences,
        rhat_max=d.rhat_max,
        ess_bulk_min=d.ess_bulk_min,
        diagnostics_ok=d.ok,
        seconds=time.perf_counter() - t0,
    )
    return row


def _worker(args: tuple[CurveData, dict[str, Any]]) -> dict[str, Any]:
    data, kw = args
    try:
        return answer_curve(data, **kw)
    except CurvecastError as e:
        return {"curve": data.name, "error": str(e)}


def run_batch(
    curves: list[CurveData],
    *,
    at: list[float],
    targets: list[float],
    prob: float = 0.8,
    fit_kwargs: dict[str, Any] | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Answers for every curve as a DataFrame (input order) plus throughput stats."""
    import pandas as pd

    for t in targets:
        for c in curves:
            c.check_target(t)
    if not at:
        raise CurvecastError("pass at least one --at N")
    jobs = n_jobs(jobs, len(curves))
    fit_kw = {"cores": 1 if jobs > 1 else None} | (fit_kwargs or {})
    kw = {"at": list(at), "targets": list(targets), "prob": prob, "fit_kwargs": fit_kw}
    t0 = time.perf_counter()
    rows, interrupted = map_curves(_worker, [(c, kw) for c in curves], jobs=jobs, progress=progress)
    secs = time.perf_counter() - t0
    order = {c.name: i for i, c in enumerate(curves)}
    rows.sort(key=lambda r: order[r["curve"]])
    stats = {
        "curves": len(rows),
        "failed": sum("error" in r for r in rows),
        "seconds": secs,
        "curves_per_minute": 60 * len(rows) / secs if secs > 0 else float("nan"),
        "interrupted": interrupted,
    }
    df = pd.DataFrame(rows)
    if "error" not in df.columns:
        df["error"] = np.nan
    return df, stats
