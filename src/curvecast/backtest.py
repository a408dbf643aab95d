"""Backtests: fit on the early part of real curves, score forecasts of the rest.

For each curve, fit on the rows with ``n <= cutoff * max(n)`` (or on the rows a
corpus marks for fitting, ``masks``) and predict every held-out row. Coverage,
the mean width of the central 90 % interval, CRPS and log predictive density use
the *measured* (noise-including) predictive distribution. The point peers of
:mod:`curvecast.peers` (last value, log regression, least-squares pow3, pow4,
mmf4, wbl4) are scored on the same curves and rows: absolute error at the
largest held-out n, mean absolute error and RMSE over the held-out rows.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.inference import fit, fit_pooled
from curvecast.outputs import atomic_write
from curvecast.parallel import map_curves, n_jobs
from curvecast.peers import PEERS, predict_peers
from curvecast.results import Forecast
from curvecast.scores import crps_samples

LEVELS = (0.5, 0.8, 0.9)
#: the keyword arguments of ``fit`` that a pooled fit shares
POOLED_KWARGS = ("family", "priors", "draws", "tune", "chains", "target_accept", "engine", "cores", "discrepancy")
#: relative slack on the cutoff so that 10 % of 118,287 keeps the 11,829 subset
CUTOFF_SLACK = 1e-3


def split(
    data: CurveData, cutoff: float, mask: np.ndarray | None = None
) -> tuple[CurveData | None, np.ndarray, np.ndarray]:
    """Training part (None if < 3 distinct n or nothing held out) and the held-out rows.

    ``mask`` (aligned with ``data.n``) marks the training rows; without it they are
    the rows with ``n <= cutoff * max n``.
    """
    keep = np.asarray(mask, bool) if mask is not None else data.n <= cutoff * data.n_ref * (1 + CUTOFF_SLACK)
    if np.unique(data.n[keep]).size < 3 or keep.all():
        return None, data.n[~keep], data.y[~keep]
    return data.select(keep), data.n[~keep], data.y[~keep]


def score_curve(
    data: CurveData, cutoff: float, fit_kwargs: dict[str, Any], seed: int = 0, mask: np.ndarray | None = None
) -> dict[str, Any] | None:
    """Fit one curve's training rows and score the held-out rows; None when skipped."""
    train, n_out, y_out = split(data, cutoff, mask)
    if train is None:
        return None
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit(data=train, seed=seed, **fit_kwargs)
    return score_fit(f, data, train, n_out, y_out, seed, time.perf_counter() - t0)


def score_fit(
    f: Forecast, data: CurveData, train: CurveData, n_out: np.ndarray, y_out: np.ndarray, seed: int, seconds: float
) -> dict[str, Any]:
    """Score a fit of ``train`` against the held-out rows ``(n_out, y_out)``."""
    draws = f.measured(n_out, seed=seed)
    med = np.median(f.latent(n_out), axis=0)  # the point forecast the tool reports (``predict``'s median)
    last_n = n_out.max()
    final_true = float(y_out[n_out == last_n].mean())
    final_idx = int(np.nonzero(n_out == last_n)[0][0])
    row: dict[str, Any] = {
        "curve": data.name,
        "n_train": int(train.n.size),
        "n_heldout": int(n_out.size),
        "y_last_train": float(train.y[train.n == train.n_ref].mean()),
        "y_final": final_true,
        "pred_final": float(med[final_idx]),
        "mae_final": abs(float(med[final_idx]) - final_true),
        "mae_heldout": float(np.mean(np.abs(med - y_out))),
        "rmse_heldout": float(np.sqrt(np.mean((med - y_out) ** 2))),
    }
    for lv in LEVELS:
        lo, hi = np.quantile(draws, [(1 - lv) / 2, 1 - (1 - lv) / 2], axis=0)
        row[f"coverage_{round(lv * 100)}"] = float(np.mean((y_out >= lo) & (y_out <= hi)))
        if lv == 0.9:
            row["width_90"] = float(np.mean(hi - lo))
    row["crps"] = float(np.mean(crps_samples(draws, y_out)))
    row["lpd"] = float(np.mean(f.log_predictive_density(n_out, y_out)))
    row["divergences"] = int(f.diagnostics.divergences)
    row["retried"] = int(any(c.diagnostics.retried for c in f.components))
    row["rhat_max"] = float(f.diagnostics.rhat_max)
    row["checks"] = ",".join(sorted({c["kind"] for c in f.diagnostics.checks}))
    row["seconds"] = seconds
    for peer, pred in predict_peers(train, n_out).items():
        row[f"{peer}_mae_final"] = abs(float(pred[final_idx]) - final_true)
        row[f"{peer}_mae_heldout"] = float(np.mean(np.abs(pred - y_out)))
        row[f"{peer}_rmse_heldout"] = float(np.sqrt(np.mean((pred - y_out) ** 2)))
    if len(f.components) > 1:
        row["weights"] = f.weights_table()
    return row


def score_group(
    group: list[CurveData],
    cutoff: float,
    fit_kwargs: dict[str, Any],
    seed: int = 0,
    masks: dict[str, np.ndarray] | None = None,
) -> list[dict[str, Any] | None]:
    """Pooled fit of a group's training rows; each curve scored on its own held-out rows."""
    masks = masks or {}
    usable: list[tuple[CurveData, CurveData, np.ndarray, np.ndarray]] = []
    for c in group:
        train, n_out, y_out = split(c, cutoff, masks.get(c.name))
        if train is not None:
            usable.append((c, train, n_out, y_out))
    out: list[dict[str, Any] | None] = [None] * (len(group) - len(usable))
    if len(usable) < 2:  # nothing to pool with: fit alone
        return out + [score_curve(c, cutoff, fit_kwargs, seed, masks.get(c.name)) for c, *_ in usable]
    t0 = time.perf_counter()
    kw = {k: v for k, v in fit_kwargs.items() if k in POOLED_KWARGS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf = fit_pooled([s[1] for s in usable], seed=seed, **kw)
    secs = (time.perf_counter() - t0) / len(usable)
    for c, train, n_out, y_out in usable:
        out.append(score_fit(pf.fits[train.name], c, train, n_out, y_out, seed, secs))
    return out


def summarize(rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    if not rows:
        return {}

    def col(k: str) -> np.ndarray:
        return np.array([r[k] for r in rows], float)

    s = {
        "mae_final_median": float(np.median(col("mae_final"))),
        "mae_final_mean": float(np.mean(col("mae_final"))),
        "mae_heldout_mean": float(np.mean(col("mae_heldout"))),
        "rmse_heldout_median": float(np.median(col("rmse_heldout"))),
        "width_90_mean": float(np.mean(col("width_90"))),
        **{f"coverage_{round(lv * 100)}": float(np.mean(col(f"coverage_{round(lv * 100)}"))) for lv in LEVELS},
        "crps_mean": float(np.mean(col("crps"))),
        "lpd_mean": float(np.mean(col("lpd"))),
        "divergent_fits": int(np.sum(col("divergences") > 0)),
        "retried_fits": int(sum(int(r.get("retried", 0)) for r in rows)),
        "warned_fits": int(sum(bool(r.get("checks")) for r in rows)),
        "seconds": seconds,
    }
    for b in PEERS:
        s[f"{b}_mae_final_median"] = float(np.median(col(f"{b}_mae_final")))
        s[f"{b}_mae_final_mean"] = float(np.mean(col(f"{b}_mae_final")))
        s[f"{b}_mae_heldout_mean"] = float(np.mean(col(f"{b}_mae_heldout")))
        s[f"{b}_rmse_heldout_median"] = float(np.median(col(f"{b}_rmse_heldout")))
    return s


Task = tuple[list[CurveData], float, dict[str, Any], int, bool, dict[str, np.ndarray]]


def _worker(args: Task) -> list[dict[str, Any] | None]:
    group, cutoff, kw, seed, pooled, masks = args
    try:
        if pooled:
            return score_group(group, cutoff, kw, seed, masks)
        return [score_curve(group[0], cutoff, kw, seed, masks.get(group[0].name))]
    except CurvecastError as e:  # a curve no family can fit: record, don't crash
        return [{"curve": c.name, "error": str(e)} for c in group]


def group_curves(curves: list[CurveData], pool_by: str) -> list[list[CurveData]]:
    """Groups for pooling: ``"all"`` or a regex whose first group is the key."""
    if pool_by == "all":
        return [curves]
    import re

    try:
        rx = re.compile(pool_by)
    except re.error as e:
        raise CurvecastError(f"--pool-by {pool_by!r} is not a valid regular expression: {e}") from None
    groups: dict[str, list[CurveData]] = {}
    for c in curves:
        m = rx.search(c.name)
        key = (m.group(1) if m.groups() else m.group(0)) if m else c.name
        groups.setdefault(key, []).append(c)
    if len(curves) > 1 and all(len(g) == 1 for g in groups.values()):
        names = ", ".join(repr(c.name) for c in curves[:3])
        raise CurvecastError(
            f"--pool-by {pool_by!r} puts every curve in a group of its own, so nothing would be pooled; "
            f"its first group must be shared by curve names such as {names} (or pass --pool-by all)"
        )
    return list(groups.values())


def run_backtest(
    curves: list[CurveData],
    cutoff: float = 0.1,
    *,
    fit_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    pool_by: str | None = None,
    masks: dict[str, np.ndarray] | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    on_start: Callable[[Any], None] | None = None,
    unfit: Sequence[dict[str, str]] = (),
    out: str | Path | None = None,
) -> dict[str, Any]:
    """Backtest every curve; parallel over ``jobs`` processes (default: all cores), or on Dask:
    ``scheduler`` is an address, ``"local"`` (a LocalCluster of ``workers``) or an open runner
    (see :func:`curvecast.parallel.map_curves`, which calls ``on_start(runner)``).

    ``unfit``: rows ``{curve, error}`` of curves that could not be read as curves, counted as failed.
    ``out``: a CSV of one row per curve, written atomically (after Ctrl-C: the finished curves,
    marked ``run_status = interrupted``).

    ``masks`` (curve name -> boolean array aligned with its ``n``) mark the rows to fit
    on, for corpora that carry their own split; ``cutoff`` is then not used.
    With ``pool_by`` ("all" or a regex whose first group names the group), the
    curves of a group are fitted jointly with partial pooling. Ctrl-C stops early
    and returns the curves finished so far (``interrupted``).
    """
    split = masks is not None  # the corpus' own split decides, not the cutoff
    if not split and not 0 < cutoff < 1:
        raise CurvecastError(f"cutoff must lie in (0, 1), got {cutoff}")
    masks = masks or {}
    t0 = time.perf_counter()
    groups = group_curves(curves, pool_by) if pool_by else [[c] for c in curves]
    jobs = n_jobs(jobs, len(groups))
    kw = {"chains": 4, "draws": 1000, "tune": 1000, "cores": 1 if jobs > 1 or scheduler else None} | (fit_kwargs or {})
    tasks: list[Task] = [
        (g, cutoff, kw, seed, bool(pool_by), {c.name: masks[c.name] for c in g if c.name in masks}) for g in groups
    ]
    batches, interrupted = map_curves(
        _worker, tasks, jobs=jobs, progress=progress, scheduler=scheduler, workers=workers, on_start=on_start
    )
    results = [r for b in batches for r in b]
    rows = [r for r in results if r is not None and "error" not in r]
    errors = [*unfit, *(r for r in results if r is not None and "error" in r)]
    n_skipped = sum(r is None for r in results)
    order = {c.name: i for i, c in enumerate(curves)}
    rows.sort(key=lambda r: order.get(r["curve"], 0))
    if out is not None and (rows or not interrupted):
        import pandas as pd

        table = pd.DataFrame(rows).assign(run_status="interrupted" if interrupted else "complete")
        atomic_write(out, lambda tmp: table.to_csv(tmp, index=False))
    return {
        "cutoff": None if split else cutoff,
        "n_curves": len(rows),
        "n_skipped": n_skipped,
        "n_failed": len(errors),
        "failed": errors,
        "interrupted": interrupted,
        "summary": summarize(rows, time.perf_counter() - t0),
        "curves": rows,
    }
