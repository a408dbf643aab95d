"""Which model to back: two learning curves compared draw by draw.

``A`` and ``B`` are two independent fits (two backbones on one data set, two data
sets for one model). Their posterior draws are paired at random (seeded): draw
``i`` of A with draw ``pi(i)`` of B, so every answer is a probability over pairs
of curves. Pairing at random assumes the fits are independent and ignores any
error the two curves share (the same evaluation set, the same data); the answers
say so.

* at each size N: P(A better than B) and the median and central interval of the
  difference ``A - B`` (in the metric's good direction: positive means A is better);
* the crossing: over a log grid of sizes from the smallest observed n of either
  curve to ``max_n``, the first size at which the better curve changes, per pair.
  Pairs that never change within the range give "no crossing" and its probability;
* for a target: the n at which each curve reaches it, and P(A reaches it with
  less data than B), P(B first) and P(neither ever does).

A leader or a first is named only when it beats the other by :data:`CLEAR` of the pairs:
two fits of one curve give "no clear crossing" and "no clear first", not a verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from curvecast.errors import CurvecastError
from curvecast.formats import size
from curvecast.results import as_sizes, check_prob
from curvecast.units import amount

if TYPE_CHECKING:
    from curvecast.results import Forecast

INDEPENDENT = (
    "the two fits are independent: their draws are paired at random, so shared errors "
    "(the same evaluation set, the same data) are not accounted for"
)
#: a crossing is reported (median and interval) when at least this share of the pairs cross
CROSSING_REPORTED = 0.5
#: a curve is named the leader (before a crossing) or the first to reach a target only when its share of
#: the pairs beats the other's by this much; closer than that, the two cannot be told apart
CLEAR = 0.2


def check_pair(a: Forecast, b: Forecast) -> None:
    """Refuse two curves that cannot be compared: other directions, other units, other bounds."""
    da, db = a.data, b.data
    if da.increasing != db.increasing:
        raise CurvecastError("A and B run in opposite directions (one is --decreasing); compare like with like")
    if da.x_unit != db.x_unit:
        raise CurvecastError(f"A counts {da.x_unit} and B {db.x_unit}; pass --x-unit to name one unit for both")
    if da.y_unit != db.y_unit:
        raise CurvecastError(f"A measures {da.y_unit} and B {db.y_unit}; pass --y-unit to name one metric for both")
    if (da.metric_min, da.metric_max) != (db.metric_min, db.metric_max):
        raise CurvecastError(
            f"A and B have other metric bounds ({da.metric_min}, {da.metric_max}) vs "
            f"({db.metric_min}, {db.metric_max}); pass the same --metric-min/--metric-max"
        )


def _pairs(a: Forecast, b: Forecast, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices pairing A's draws with B's at random: as many pairs as the smaller fit has draws."""
    rng = np.random.default_rng([seed, 0xC0C0])
    sa, sb = a.latent([a.data.n_ref]).shape[0], b.latent([b.data.n_ref]).shape[0]
    k = min(sa, sb)
    return rng.permutation(sa)[:k], rng.permutation(sb)[:k]


def _interval(v: np.ndarray, level: float) -> list[float]:
    return [float(x) for x in np.quantile(v, [(1 - level) / 2, (1 + level) / 2])]


def compare(
    a: Forecast,
    b: Forecast,
    *,
    at: Any = None,
    target: float | None = None,
    max_n: float | None = None,
    interval: float = 0.9,
    seed: int = 0,
    grid: int = 400,
) -> dict[str, Any]:
    """Compare two independent fits draw by draw (see the module docstring).

    Returns a dict with ``at`` (one row per size: ``n``, ``p_a_better``, ``diff_median``,
    ``diff_interval``), ``crossing`` (``p_cross``, and when at least :data:`CROSSING_REPORTED`
    of the pairs cross: ``median``, ``interval``, who leads before and after), ``reach`` (with a
    target) and ``note`` (the fits are independent).
    """
    check_pair(a, b)
    check_prob(interval, "--interval")
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 2:
        raise CurvecastError(f"grid must be a whole number of sizes >= 2, got {grid!r}")
    d = a.data
    lo_n = float(min(a.data.n.min(), b.data.n.min()))
    hi_n = float(max_n) if max_n is not None else 10 * max(a.data.n_ref, b.data.n_ref)
    if not (np.isfinite(hi_n) and hi_n > lo_n):
        raise CurvecastError(f"--max-n {hi_n:g} must exceed the smallest observed n ({lo_n:g})")
    top = max(a.data.n_ref, b.data.n_ref)
    sizes = as_sizes(at) if at is not None else np.unique([float(f"{v:.2g}") for v in np.geomspace(top, hi_n, 4)])
    ia, ib = _pairs(a, b, seed)
    diff = d.sign * (a.latent(sizes)[ia] - b.latent(sizes)[ib])
    rows = [
        {
            "n": float(n),
            "p_a_better": float(np.mean(v > 0)),
            "diff_median": float(np.median(v)),
            "diff_interval": _interval(v, interval),
        }
        for n, v in zip(sizes, diff.T, strict=True)
    ]
    out: dict[str, Any] = {
        "a": a.data.name,
        "b": b.data.name,
        "pairs": int(ia.size),
        "interval_level": interval,
        "at": rows,
        "crossing": crossing(a, b, ia, ib, lo_n, hi_n, interval, grid),
        "independent": True,
        "note": INDEPENDENT,
        "x_unit": d.x_unit,
        "y_unit": d.y_unit,
    }
    if target is not None:
        out["reach"] = reach(a, b, ia, ib, float(target), interval)
    return out


def crossing(
    a: Forecast, b: Forecast, ia: np.ndarray, ib: np.ndarray, lo_n: float, hi_n: float, interval: float, grid: int
) -> dict[str, Any]:
    """The first size in ``[lo_n, hi_n]`` at which the better of each pair of curves changes."""
    n = np.geomspace(lo_n, hi_n, grid)
    diff = a.data.sign * (a.latent(n)[ia] - b.latent(n)[ib])
    lead0 = np.sign(diff[:, 0])
    changed = (np.sign(diff) != lead0[:, None]) & (diff != 0)
    crosses = changed.any(axis=1)
    first = np.argmax(changed, axis=1)
    # interpolate log n linearly between the grid points around the change of sign
    k = np.maximum(first, 1)
    rows = np.arange(diff.shape[0])
    d0, d1 = diff[rows, k - 1], diff[rows, k]
    frac = np.where(d1 != d0, d0 / np.where(d1 != d0, d0 - d1, 1.0), 0.0)
    at = np.exp(np.log(n[k - 1]) + np.clip(frac, 0, 1) * (np.log(n[k]) - np.log(n[k - 1])))
    p_cross = float(np.mean(crosses))
    out: dict[str, Any] = {"range": [lo_n, hi_n], "p_cross": p_cross, "p_no_cross": 1 - p_cross}
    out["a_leads_at_start"] = float(np.mean(lead0[crosses] > 0)) if crosses.any() else float(np.mean(lead0 > 0))
    if p_cross >= CROSSING_REPORTED:
        x = at[crosses]
        out |= {"median": float(np.median(x)), "interval": _interval(x, interval)}
    else:
        out |= {"median": None, "interval": None}
    return out


def reach(a: Forecast, b: Forecast, ia: np.ndarray, ib: np.ndarray, target: float, interval: float) -> dict[str, Any]:
    """Which curve reaches ``target`` with less data, per pair of draws."""
    a.data.check_target(target)
    na, nb = np.asarray(a.n_star(target), float)[ia], np.asarray(b.n_star(target), float)[ib]
    na, nb = np.where(np.isnan(na), np.inf, na), np.where(np.isnan(nb), np.inf, nb)
    never = ~np.isfinite(na) & ~np.isfinite(nb)
    p_a, p_b = float(np.mean(na < nb)), float(np.mean(nb < na))
    first = "A" if p_a >= p_b + CLEAR else "B" if p_b >= p_a + CLEAR else None  # None: no clear first
    return {
        "target": target,
        "p_a_first": p_a,
        "p_b_first": p_b,
        "p_neither": float(np.mean(never)),
        "first": first,
        "p_first": max(p_a, p_b),
        "n_a_median": float(np.quantile(na, 0.5, method="inverted_cdf")),
        "n_b_median": float(np.quantile(nb, 0.5, method="inverted_cdf")),
        "p_a_never": float(np.mean(~np.isfinite(na))),
        "p_b_never": float(np.mean(~np.isfinite(nb))),
    }


def summary_lines(r: dict[str, Any]) -> list[str]:
    """The answer in plain sentences (for the CLI and notebooks)."""
    x = r["x_unit"]
    c = r["crossing"]
    lo, hi = c["range"]
    lines = []
    lead = c["a_leads_at_start"]
    if c["median"] is not None and abs(2 * lead - 1) < CLEAR:  # the pairs cross, but neither leads first
        lines.append(
            f"no clear crossing: the better curve changes within {size(lo)} - {amount(hi, x)} in "
            f"{c['p_cross']:.0%} of the pairs, A leading first in {lead:.0%} of them: the data cannot tell A from B"
        )
    elif c["median"] is not None:
        before = "A" if lead >= 0.5 else "B"
        after = "B" if before == "A" else "A"
        ci = c["interval"]
        lines.append(
            f"crossing: {before} is better up to about {amount(c['median'], x)} and {after} after it "
            f"({r['interval_level']:.0%} interval {size(ci[0])} - {size(ci[1])}; P(they cross) = {c['p_cross']:.2f})"
        )
    else:
        lines.append(
            f"no crossing within {size(lo)} - {amount(hi, x)} "
            f"(probability {c['p_no_cross']:.2f}; P(they cross) = {c['p_cross']:.2f})"
        )
    if "reach" in r:
        g = r["reach"]
        odds = f"P(A first) = {g['p_a_first']:.2f}, P(B first) = {g['p_b_first']:.2f}"
        if g["p_neither"] >= 0.5:
            lines.append(f"target {g['target']:g}: most likely neither reaches it (P(neither ever) = "
                         f"{g['p_neither']:.2f}; {odds})")  # fmt: skip
        elif g["first"] is None:
            lines.append(f"target {g['target']:g}: no clear first ({odds}; P(neither ever) = {g['p_neither']:.2f})")
        else:
            name = r["a"] if g["first"] == "A" else r["b"]
            lines.append(
                f"target {g['target']:g}: {g['first']} ({name}) reaches it with less data, probability "
                f"{g['p_first']:.2f} (median {amount(g['n_a_median'], x)} for A, {amount(g['n_b_median'], x)} "
                f"for B; P(neither ever) = {g['p_neither']:.2f})"
            )
    lines.append(f"note: {r['note']}")
    return lines
