"""The user's units and money: axis names, per-unit rates on a readable scale, linear costs.

A curve's x unit says what ``n`` counts ("images", "person-days", "tokens") and its
y unit what the metric is ("mAP", "F1"). Files give their column names by default
(generic names such as ``n`` or ``metric`` read as "samples" and "metric": ``data.x_unit_of``);
``--x-unit`` / ``--y-unit`` (``CurveData(x_unit=..., y_unit=...)``) set them.

Rates are given per a power of ten of the x unit chosen from the data ("per 1,000
images", "per 10 person-days") and costs per a power of ten of the metric ("per
0.01 mAP"). Costs are linear: ``cost(n) = cost_per_sample * (n - n_now) + fixed_cost``
for one more training run at size ``n``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvecast.errors import CurvecastError
from curvecast.formats import size

if TYPE_CHECKING:
    from curvecast.data import CurveData
    from curvecast.results import Forecast


def singular(unit: str) -> str:
    """ "images" -> "image", "person-days" -> "person-day"; other words unchanged."""
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") and len(unit) > 2 else unit


def _power_of_ten_near(v: float) -> float:
    return float(10.0 ** round(math.log10(v)))


def rate_step(n_ref: float) -> float:
    """The power of ten of the x unit nearest a tenth of the data (at least 1): 3,500 or 11,829 images
    -> 1,000; 118,287 -> 10,000; 160 person-days -> 10."""
    return max(_power_of_ten_near(max(n_ref, 1.0) / 10), 1.0)


def metric_step(data: CurveData) -> float:
    """The power of ten of the metric nearest a twentieth of the observed spread: 0.01 for mAP that
    moved by 0.08 to 0.6, 1 for percentages that moved by 7 to 60."""
    return _power_of_ten_near(max(float(np.ptp(data.y)), 1e-12) / 20)


def per(step: float, unit: str, metric: bool = False) -> str:
    """ "per 1,000 images", "per 10 person-days", "per image"; of a metric: "per 0.01 mAP", "per 1 F1"."""
    if step == 1 and not metric:
        return f"per {singular(unit)}"
    return f"per {step:,.0f} {unit}" if step >= 1 else f"per {step:g} {unit}"


def amount(n: float, unit: str) -> str:
    """ "12,000 images", "2.5 GPU-days", "1 image" (``inf``: "never")."""
    return f"{size(n)} {singular(unit) if n == 1 else unit}" if math.isfinite(n) else "never"


def units(data: CurveData) -> dict[str, str]:
    """The units of an answer, for JSON."""
    return {"x_unit": data.x_unit, "y_unit": data.y_unit}


def relabel(f: Forecast, x_unit: str | None = None, y_unit: str | None = None) -> Forecast:
    """``f`` with its data (and its components' data) in other units; ``None`` keeps a unit."""
    if x_unit is None and y_unit is None:
        return f
    for c in {id(f): f, **{id(c): c for c in f.components}}.values():
        c.data = c.data.with_units(x_unit, y_unit)
    return f


# -- costs ------------------------------------------------------------------------
@dataclass(frozen=True)
class Costs:
    """Linear costs: ``per_sample`` for each sample added beyond the current data and ``fixed`` per
    training run. For samples whose price varies (tiers, a cheaper second batch), pass their average
    price over the samples you would add, or price ``extra_samples`` yourself from the answers."""

    per_sample: float = 0.0
    fixed: float = 0.0

    def __post_init__(self) -> None:
        for label, v in (("--cost-per-sample", self.per_sample), ("--fixed-cost", self.fixed)):
            if isinstance(v, bool | np.bool_) or not (isinstance(v, numbers.Real) and math.isfinite(v) and v >= 0):
                raise CurvecastError(f"{label} must be a number >= 0, got {v}")

    @classmethod
    def of(cls, per_sample: float | None, fixed: float | None) -> Costs | None:
        """The costs a command was given, or ``None`` when it was given none."""
        return None if per_sample is None and fixed is None else cls(per_sample or 0.0, fixed or 0.0)

    def run(self, n: Any, n_now: float) -> np.ndarray:
        """The cost of one more training run at size ``n`` (the samples beyond ``n_now`` plus the fixed cost)."""
        return np.maximum(np.asarray(n, float) - n_now, 0.0) * self.per_sample + self.fixed

    def to_dict(self) -> dict[str, float]:
        return {"cost_per_sample": self.per_sample, "fixed_cost": self.fixed}


def costed_need(f: Forecast, target: float, prob: float = 0.8, costs: Costs | None = None) -> dict[str, Any]:
    """:meth:`Forecast.need` in the curve's units; with ``costs``, the budget at ``prob``: the extra
    samples' cost plus one training run's fixed cost (``inf`` when never reached; 0 when the data at
    hand already reach the target with ``prob``: no run is needed)."""
    out = f.need(target, prob=prob, cost_per_sample=None if costs is None else costs.per_sample)
    if costs is not None:
        out["fixed_cost"] = costs.fixed
        run = costs.fixed if out["extra_samples"] > 0 else 0.0
        out["budget_at_prob"] = out["cost_at_prob"] + run if math.isfinite(out["n_needed"]) else math.inf
    return out | units(f.data)


def costed_gain(
    f: Forecast, step: float, from_n: float | None = None, interval: float = 0.9, costs: Costs | None = None
) -> dict[str, Any]:
    """:meth:`Forecast.gain` with its rate on a readable scale of the x unit (``rate``, ``rate_step``,
    ``rate_label``) and, with ``costs``, the cost of the step and the cost per ``metric_step`` of
    metric gained (median and interval over the draws; ``inf`` where the step gains nothing)."""
    g = f.gain(step, from_n=from_n, interval=interval)
    d = f.data
    k = rate_step(d.n_ref)
    g |= {"rate": g["mean"] / step * k, "rate_step": k, "rate_label": per(k, d.x_unit)} | units(d)
    if costs is None:
        return g
    lat = f.latent([g["from_n"], g["to_n"]])
    gained = d.sign * (lat[:, 1] - lat[:, 0])
    cost = float(costs.run(g["to_n"], g["from_n"]))
    m = metric_step(d)
    with np.errstate(divide="ignore"):
        per_unit = np.where(gained > 0, cost / np.where(gained > 0, gained, 1.0) * m, np.inf)
    lo, med, hi = np.quantile(per_unit, [(1 - interval) / 2, 0.5, (1 + interval) / 2], method="inverted_cdf")
    money = {
        "cost": cost,
        "cost_per_metric_step": float(med),
        "cost_per_metric_interval": [float(lo), float(hi)],
        "metric_step": m,
        "metric_step_label": per(m, d.y_unit, metric=True),
        "p_no_gain": float(np.mean(gained <= 0)),
    }
    return g | costs.to_dict() | money
