"""A forecast's answers to one question, in numbers and in words.

:class:`Question` is what is asked (a target, sizes, a probability, a step, a
cost per sample); :func:`answers` answers it from any fit, as a JSON-ready dict
that the HTML report (``curvecast.report``) and the MLflow log
(``curvecast.tracking_log``) share; :func:`sentences` says the answers in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from curvecast.formats import nice, pct, size
from curvecast.results import Forecast, check_query
from curvecast.units import Costs, singular, units

#: the central interval reported everywhere
INTERVAL = 0.9
#: without --at: these multiples of the largest observed n
DEFAULT_AT = (2.0, 10.0)
#: without --step: the next data as these fractions of the largest observed n
DEFAULT_STEPS = (0.25, 0.5, 1.0, 3.0)
#: with --step S: these multiples of S
STEP_MULTIPLES = (1.0, 2.0, 5.0, 10.0)


def num(v: float, digits: int = 3, sign: bool = False, like: float | None = None) -> str:
    """A metric value with ``digits`` significant figures and no exponent: 0.376, 1,235, 0.00123;
    ``like``: with as many decimals as ``like`` gets (the ends of an interval like its centre)."""
    if not math.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
    ref = v if like is None or not math.isfinite(like) or like == 0 else like
    mag = math.floor(math.log10(abs(ref))) if ref else 0
    return f"{v:{'+' if sign else ''},.{max(digits - 1 - mag, 0)}f}"


def eq(p: float) -> str:
    """The sign before :func:`pct`: "=", or "is" before "< 1%" and "> 99%" (never "= > 99%")."""
    return "is" if 0 < p < 0.01 or 0.99 < p < 1 else "="


@dataclass(frozen=True)
class Question:
    """What the report (or a logged forecast) answers.

    ``target``: the metric value to reach; ``at``: sizes to forecast at (default: 2x
    and 10x the largest observed n); ``prob``: the probability for the data needed;
    ``step``: the next data to price (default: 25 %, 50 %, 100 % and 300 % of the
    largest observed n); ``cost_per_sample``; ``max_n``: the plots' right edge.
    """

    target: float | None = None
    at: tuple[float, ...] = ()
    prob: float = 0.8
    step: float | None = None
    cost_per_sample: float | None = None
    max_n: float | None = None

    def check(self, fit: Forecast | None = None) -> Question:
        """Refuse bad options before any sampling (and the target against ``fit``'s metric bounds)."""
        check_query(at=self.at or None, prob=self.prob, step=self.step, max_n=self.max_n)
        Costs.of(self.cost_per_sample, None)  # refuses a negative or non-finite cost
        if fit is not None and self.target is not None:
            fit.data.check_target(self.target)
        return self

    def sizes(self, fit: Forecast) -> list[float]:
        ref = fit.data.n_ref
        return [float(v) for v in self.at] if self.at else [nice(ref * m) for m in DEFAULT_AT]

    def steps(self, fit: Forecast) -> list[float]:
        if self.step is not None:
            return [self.step * m for m in STEP_MULTIPLES]
        return [nice(fit.data.n_ref * f) for f in DEFAULT_STEPS]


def answers(fit: Forecast, q: Question) -> dict[str, Any]:
    """The answers to ``q`` from ``fit``: forecasts ``at`` each size, the data ``need``-ed for the
    target, what the ``next`` data buy, and the diagnostics. JSON-ready (infinite n: ``inf``)."""
    q.check(fit)
    d, t = fit.data, q.target
    sizes = q.sizes(fit)
    pred = fit.predict(sizes, interval=INTERVAL)
    p_at = fit.prob(t, sizes) if t is not None else [None] * len(sizes)
    at = [
        {"n": n, "median": float(r.median), "lower": float(r.lower), "upper": float(r.upper)}
        | ({"p_reach": float(p)} if p is not None else {})
        for n, r, p in zip(sizes, pred.itertuples(), p_at, strict=True)
    ]
    nxt = []
    for step in q.steps(fit):
        g = fit.gain(step, interval=INTERVAL)
        row = {"step": step, "to_n": g["to_n"], "mean": g["mean"], "lower": g["interval"][0], "upper": g["interval"][1]}
        if t is not None:
            row["p_reach"] = float(fit.prob(t, [g["to_n"]])[0])
        if q.cost_per_sample is not None:
            row["cost"] = step * q.cost_per_sample
        nxt.append(row)
    out: dict[str, Any] = {
        "curve": d.name,
        "model": fit.label,
        "bounded": bool(fit.bounded),
        "increasing": bool(d.increasing),
        **units(d),
        "n_points": int(d.n.size),
        "n_current": d.n_ref,
        "target": t,
        "prob": q.prob,
        "interval": INTERVAL,
        "at": at,
        "need": None,
        "next": nxt,
        "diagnostics": fit.diagnostics.to_dict(),
    }
    if t is not None:
        out["need"] = fit.need(t, prob=q.prob, interval=INTERVAL, cost_per_sample=q.cost_per_sample)
    return out


def metric_name(a: dict[str, Any]) -> str:
    """How sentences name the metric: its unit ("mAP"), or "the metric" when it has none."""
    y = a.get("y_unit", "metric")
    return "the metric" if y == "metric" else str(y)


def sentences(a: dict[str, Any], metric: str | None = None) -> list[str]:
    """The answers in words, one sentence each; key numbers in ``**bold**`` (Markdown). ``metric``
    names the metric (default: its unit); sizes are counted in the data's x unit ("samples")."""
    op, t, p = ("≥" if a["increasing"] else "≤"), a["target"], a["prob"]
    metric, unit = metric or metric_name(a), a.get("x_unit", "samples")
    level = f"{a['interval']:.0%}"
    out = []
    for r in a["at"]:
        m = r["median"]
        band = f"{num(m)} ({level}: {num(r['lower'], like=m)} to {num(r['upper'], like=m)})"
        if t is None:
            out.append(f"At **{size(r['n'])}** {unit} the forecast of {metric} is **{band}**.")
        else:
            out.append(
                f"At **{size(r['n'])}** {unit}, P({metric} {op} {num(t)}) {eq(r['p_reach'])} **{pct(r['p_reach'])}**; "
                f"the forecast is {band}."
            )
    need = a["need"]
    if need is not None:
        out.append(_need_sentence(need, metric, op, p, a["n_current"], unit))
        if not a["bounded"]:
            out.append(
                "The model has no asymptote, so every target is eventually reached: that is an assumption "
                "of the model, not a finding."
            )
    g = a["next"][0]
    out.append(
        f"The next **{size(g['step'])}** {unit} (to {size(g['to_n'])}) improve {metric} by "
        f"**{num(g['mean'], sign=True)}** on average ({level}: {num(g['lower'], sign=True, like=g['mean'])} to "
        f"{num(g['upper'], sign=True, like=g['mean'])})."
    )
    diag = a["diagnostics"]
    if diag["problems"]:
        out.append(f"**Caution**: the diagnostics failed ({'; '.join(diag['problems'])}); treat the answers with care.")
    else:
        out.append("The sampler's diagnostics passed (no divergences, r-hat and ESS within bounds).")
    return out


def _need_sentence(need: dict[str, Any], metric: str, op: str, p: float, n_now: float, unit: str) -> str:
    t, n = need["target"], need["n_needed"]
    lo, hi = need["interval"]
    crossing = f"the curve crosses {num(t)} at a median of {size(need['n_median'], True)} {unit}"
    crossing += f" ({need['interval_level']:.0%}: {size(lo, True)} to {size(hi, True)})"
    if not math.isfinite(need["n_median"]):  # most draws never cross: no median size to give
        crossing = f"most draws of the curve never cross {num(t)}"
    never = f"P(never reached) {eq(need['p_never'])} {pct(need['p_never'])}"
    if not math.isfinite(n):
        return (
            f"With this model, {metric} {op} {num(t)} is **not reached with {p:.0%} probability at any size**: "
            f"{never}; {crossing}."
        )
    if n <= n_now:
        return (
            f"The target ({metric} {op} {num(t)}) is already reached with {p:.0%} probability at the "
            f"{size(n_now)} {unit} measured (P {eq(need['p_reached_now'])} {pct(need['p_reached_now'])})."
        )
    cost = ""
    if "cost_at_prob" in need:
        cost = f", costing about **{num(nice(need['cost_at_prob'], 3))}** at {need['cost_per_sample']:g} per "
        cost += singular(unit)  # "per image"
    return (
        f"To reach {metric} {op} {num(t)} with {p:.0%} probability takes about **{size(n, True)}** {unit} in all, "
        f"{size(n - n_now, True)} more than the {size(n_now)} measured{cost}; {crossing}; {never}."
    )
