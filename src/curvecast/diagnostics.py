"""Sampler diagnostics that travel with every answer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

#: thresholds a fit must meet to count as healthy
RHAT_MAX = 1.01
ESS_MIN = 400
#: components of a mixture with at most this weight do not count towards its diagnostics
ACTIVE_WEIGHT = 0.01


@dataclass(frozen=True)
class Diagnostics:
    """Divergences, worst r-hat and smallest bulk/tail ESS over the sampled parameters.

    ``retried`` records the first try of a fit that was sampled again after
    divergences (its ``target_accept`` and divergence count); ``per_family`` holds
    the components' diagnostics of an averaged fit; ``checks`` the ways in which
    the data contradict the fitted model (they count as problems too).
    """

    divergences: int
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    retried: dict[str, Any] | None = None
    per_family: dict[str, dict[str, Any]] | None = field(default=None)
    #: model checks that failed (see ``curvecast.checks``): dicts with kind, message, points
    checks: tuple[dict[str, Any], ...] = ()

    @property
    def problems(self) -> list[str]:
        """What failed, as readable strings (empty when healthy).

        A mixture reports the sampler problems of each component that carries weight,
        with the ESS a component needs scaled by its weight (its draws are that share
        of the mixture's), then the model checks once.
        """
        if self.per_family:
            out = [
                f"{name}: {p}"
                for name, d in self.per_family.items()
                if d.get("weight", 1.0) > ACTIVE_WEIGHT
                for p in _sampler_problems(d, ESS_MIN * d.get("weight", 1.0))
            ]
        else:
            out = _sampler_problems(self.to_numbers(), ESS_MIN)
        return out + [f"model check ({c['kind']}): {c['message']}" for c in self.checks]

    def warning(self) -> str:
        """What failed and what to do, in one sentence ('' when healthy): warnings and the CLI say it."""
        why = "; ".join(self.problems)
        if not why:
            return ""
        if self.checks:
            return f"diagnostics or model checks failed ({why}); treat the answers with caution"
        return f"sampler diagnostics failed ({why}); treat the answers with caution, or refit with more draws"

    def to_numbers(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("divergences", "rhat_max", "ess_bulk_min", "ess_tail_min")}

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the numbers, ``problems`` and ``ok`` (``retried``/``per_family`` when set)."""
        out: dict[str, Any] = self.to_numbers() | {"ok": self.ok, "problems": self.problems}
        if self.retried:
            out["retried"] = dict(self.retried)
        if self.per_family:
            out["per_family"] = {k: dict(v) for k, v in self.per_family.items()}
        if self.checks:
            out["model_checks"] = [dict(c) for c in self.checks]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Diagnostics:
        """Inverse of :meth:`to_dict`; also reads the dicts saved by curvecast 0.1.0."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("rhat_max", "ess_bulk_min", "ess_tail_min"):
            kw[k] = float(kw.get(k, math.nan))
        kw["divergences"] = int(kw.get("divergences", 0))
        kw["checks"] = tuple(dict(c) for c in d.get("model_checks", ()))
        return cls(**kw)

    @classmethod
    def combine(cls, parts: dict[str, Diagnostics], weights: dict[str, float]) -> Diagnostics:
        """Diagnostics of a mixture: worst values over the components that carry weight."""
        act = [p for k, p in parts.items() if weights[k] > ACTIVE_WEIGHT] or list(parts.values())
        return cls(
            divergences=sum(p.divergences for p in act),
            rhat_max=max(p.rhat_max for p in act),
            ess_bulk_min=min(p.ess_bulk_min for p in act),
            ess_tail_min=min(p.ess_tail_min for p in act),
            per_family={k: p.to_dict() | {"weight": float(weights[k])} for k, p in parts.items()},
            checks=next((p.checks for k, p in parts.items() if weights[k] > ACTIVE_WEIGHT and p.checks), ()),
        )


def _sampler_problems(d: dict[str, Any], ess_min: float) -> list[str]:
    """Divergences, r-hat and ESS problems of one fit's numbers (``ess_min`` scaled for a mixture's share)."""
    out = []
    if d["divergences"] > 0:
        out.append(f"{d['divergences']} divergent transitions")
    if d["rhat_max"] is None or math.isnan(d["rhat_max"]):
        out.append("r-hat not computable, run 2 or more chains")
    elif not d["rhat_max"] <= RHAT_MAX:
        digits = 3 if round(d["rhat_max"], 3) > RHAT_MAX else 5  # never "1.010 > 1.01"
        out.append(f"r-hat {d['rhat_max']:.{digits}f} > {RHAT_MAX}")
    if not d["ess_bulk_min"] >= ess_min:
        out.append(f"bulk ESS {d['ess_bulk_min']:.0f} < {ess_min:.0f}")
    if not d["ess_tail_min"] >= ess_min:
        out.append(f"tail ESS {d['ess_tail_min']:.0f} < {ess_min:.0f}")
    return out
