"""Prior specifications: small value objects validated against real distributions.

A :class:`Prior` is a distribution name plus its parameters, e.g.
``Prior("LogNormal", mu=-0.9, sigma=0.8)``. Parameter values are numbers or the
name of a *data symbol* (see :data:`SYMBOLS`) that is resolved from the curve
being fitted, so that one prior file serves many curves, e.g.
``Prior("TruncatedNormal", mu="y_last", sigma="y_spread", lower="metric_min",
upper="metric_max")``.

Prior sets are read from TOML files laid out as::

    [pow3]
    alpha = { dist = "LogNormal", mu = -0.92, sigma = 0.8 }

    [noise]           # applies to every family
    sigma = { dist = "LogNormal", mu = "log_noise_scale", sigma = 1.0 }

This module does not import PyMC; :meth:`Prior.to_pymc` does, lazily.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curvecast.errors import CurvecastError

#: Data symbols a prior parameter may name; resolved per curve (see ``data.CurveData``).
SYMBOLS: dict[str, str] = {
    "y_last": "mean observed metric at the largest n",
    "y_best": "best observed metric (max if increasing, min if decreasing)",
    "y_spread": "spread of the observed metric (range, floored)",
    "log_noise_scale": "log of the noise scale estimated from replicates or the observed range",
    "metric_min": "lower bound of the metric (finite stand-in when unbounded)",
    "metric_max": "upper bound of the metric (finite stand-in when unbounded)",
}

#: the widest LogNormal sigma accepted: e^10 is a factor of 22,000 either way of the median; wider
#: priors overflow the sampler (a derived prior widened x1e6 crashed it)
LOG_SIGMA_MAX = 10.0
# distribution -> (required params, params that must be > 0, support of the variable)
_DISTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "Normal": (("mu", "sigma"), ("sigma",), "real"),
    "StudentT": (("nu", "mu", "sigma"), ("nu", "sigma"), "real"),
    "TruncatedNormal": (("mu", "sigma", "lower", "upper"), ("sigma",), "interval"),
    "Uniform": (("lower", "upper"), (), "interval"),
    "HalfNormal": (("sigma",), ("sigma",), "positive"),
    "HalfStudentT": (("nu", "sigma"), ("nu", "sigma"), "positive"),
    "HalfCauchy": (("beta",), ("beta",), "positive"),
    "LogNormal": (("mu", "sigma"), ("sigma",), "positive"),
    "Gamma": (("alpha", "beta"), ("alpha", "beta"), "positive"),
    "InverseGamma": (("alpha", "beta"), ("alpha", "beta"), "positive"),
    "Exponential": (("lam",), ("lam",), "positive"),
    "Beta": (("alpha", "beta"), ("alpha", "beta"), "unit"),
}

#: the distributions a Prior may name
DISTRIBUTIONS = tuple(_DISTS)


@dataclass(frozen=True)
class Prior:
    """A distribution name and its parameters; numbers or data-symbol names."""

    dist: str
    params: dict[str, float | str] = field(default_factory=dict)

    def __init__(self, dist: str, **params: float | str) -> None:
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "params", dict(params))
        problems = self.problems()
        if problems:
            raise CurvecastError("; ".join(problems))

    # -- validation ---------------------------------------------------------
    def problems(self) -> list[str]:
        """Every problem with this spec, as readable strings (empty when valid)."""
        if self.dist not in _DISTS:
            return [f"unknown distribution {self.dist!r} (known: {', '.join(DISTRIBUTIONS)})"]
        required, positive, _ = _DISTS[self.dist]
        out = []
        missing = [p for p in required if p not in self.params]
        extra = [p for p in self.params if p not in required]
        if missing:
            out.append(f"{self.dist} needs parameter(s) {', '.join(missing)}")
        if extra:
            out.append(f"{self.dist} has no parameter(s) {', '.join(extra)} (it takes {', '.join(required)})")
        for name, value in self.params.items():
            if isinstance(value, str):
                if value not in SYMBOLS:
                    out.append(
                        f"{self.dist}.{name} = {value!r} is not a number or a known data symbol ({', '.join(SYMBOLS)})"
                    )
            elif isinstance(value, bool) or not isinstance(value, int | float):
                out.append(f"{self.dist}.{name} must be a number, got {value!r}")
            elif not math.isfinite(value):
                out.append(f"{self.dist}.{name} must be finite, got {value}")
            elif name in positive and value <= 0:
                out.append(f"{self.dist}.{name} must be > 0, got {value}")
        log_sd = self.params.get("sigma") if self.dist == "LogNormal" else None
        if isinstance(log_sd, int | float) and log_sd > LOG_SIGMA_MAX:  # exp(30 sigma) overflows the sampler
            out.append(
                f"LogNormal.sigma = {log_sd:g} spans more than e^{LOG_SIGMA_MAX:g} either way, which cannot be "
                f"sampled; give a sigma <= {LOG_SIGMA_MAX:g}"
            )
        lo, hi = self.params.get("lower"), self.params.get("upper")
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo >= hi:
            out.append(f"{self.dist}: lower ({lo}) must be below upper ({hi})")
        return out

    @property
    def support(self) -> str:
        """'real', 'positive', 'unit' or 'interval'."""
        return _DISTS[self.dist][2]

    # -- conversion ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"dist": self.dist, **self.params}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Prior:
        if not isinstance(d, dict) or "dist" not in d:
            raise CurvecastError(f"a prior must be a table with a 'dist' key, got {d!r}")
        rest = {k: v for k, v in d.items() if k != "dist"}
        return cls(d["dist"], **rest)

    def resolve(self, symbols: dict[str, Any]) -> dict[str, Any]:
        """Parameter values with each data symbol replaced by ``symbols[name]``.

        ``symbols`` holds numbers (``CurveData.symbols()``) or, when building a
        model, the ``pm.Data`` variables that carry them.
        """
        return {k: symbols[v] if isinstance(v, str) else float(v) for k, v in self.params.items()}

    def to_pymc(self, name: str, values: dict[str, Any], **kwargs: Any) -> Any:
        """Create the PyMC random variable ``name`` inside the current model (``kwargs``: e.g. ``dims``)."""
        import pymc as pm

        return getattr(pm, self.dist)(name, **values, **kwargs)

    def to_dist(self, values: dict[str, Any]) -> Any:
        """The unnamed PyMC distribution (``pm.<dist>.dist``), for draws or log-densities."""
        import pymc as pm

        return getattr(pm, self.dist).dist(**values)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v:g}" if not isinstance(v, str) else f"{k}={v}" for k, v in self.params.items())
        return f"{self.dist}({args})"


def check_support(prior: Prior, support: str, where: str) -> list[str]:
    """Problems if ``prior`` can put mass outside a parameter's support."""
    ok = {
        "real": {"real", "positive", "unit", "interval"},
        "positive": {"positive"},
        "unit": {"unit"},
    }[support]
    if prior.support in ok:
        return []
    if support in ("positive", "unit") and prior.support == "interval":
        lo, hi = prior.params.get("lower"), prior.params.get("upper")
        lo_ok = isinstance(lo, int | float) and lo >= 0
        hi_ok = support == "positive" or (isinstance(hi, int | float) and hi <= 1)
        if lo_ok and hi_ok:
            return []
    return [f"{where}: {prior.describe()} allows values outside the parameter's {support} support"]


PriorSet = dict[str, dict[str, Prior]]


def parse_prior_table(table: dict[str, Any], known: dict[str, dict[str, str]]) -> PriorSet:
    """Validate a ``{family: {param: spec}}`` table against the registry.

    ``known`` maps family name (and ``"noise"``) to ``{param: support}``. All
    problems are collected and raised together in one :class:`CurvecastError`.
    """
    problems: list[str] = []
    out: PriorSet = {}
    for fam, params in table.items():
        if fam not in known:
            problems.append(f"[{fam}]: unknown family (known: {', '.join(sorted(known))})")
            continue
        if not isinstance(params, dict):
            problems.append(f"[{fam}] must be a table of parameter = prior")
            continue
        for pname, spec in params.items():
            where = f"[{fam}].{pname}"
            if pname not in known[fam]:
                problems.append(f"{where}: unknown parameter (known: {', '.join(known[fam])})")
                continue
            if not isinstance(spec, dict) or "dist" not in spec:
                problems.append(f'{where}: must be a table like {{ dist = "LogNormal", mu = 0, sigma = 1 }}')
                continue
            p = Prior.__new__(Prior)
            object.__setattr__(p, "dist", spec["dist"])
            object.__setattr__(p, "params", {k: v for k, v in spec.items() if k != "dist"})
            errs = p.problems()
            if errs:
                problems.extend(f"{where}: {e}" for e in errs)
                continue
            problems.extend(check_support(p, known[fam][pname], where))
            out.setdefault(fam, {})[pname] = p
    if problems:
        raise CurvecastError("invalid priors:\n  - " + "\n  - ".join(problems))
    return out


def load_prior_file(path: str | Path, known: dict[str, dict[str, str]]) -> PriorSet:
    """Read and validate a TOML prior file."""
    path = Path(path)
    if not path.is_file():
        raise CurvecastError(f"prior file {str(path)!r} not found; pass an existing .toml file")
    try:
        table = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CurvecastError(f"prior file {str(path)!r} is not valid TOML: {e}") from None
    return parse_prior_table(table, known)


def to_toml(priors: PriorSet, header: str = "") -> str:
    """Write a prior set as TOML (inline tables, one parameter per line)."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] if header else []
    for fam, params in priors.items():
        lines.append(f"\n[{fam}]")
        for pname, p in params.items():
            items = [f'dist = "{p.dist}"'] + [
                f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {float(v)!r}" for k, v in p.params.items()
            ]
            lines.append(f"{pname} = {{ {', '.join(items)} }}")
    return "\n".join(lines).lstrip("\n") + "\n"
