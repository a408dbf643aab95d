"""The registry of learning-curve families.

A family is tiny: a name, a formula, its parameters with their supports, default
priors, a mean function and (where one exists) a closed-form inverse. Everything
else (model building, fitting, queries, plots, persistence) lives once, in
shared code, and never branches on a family's name.

Conventions shared by all families
----------------------------------
``n`` is the resource (images, samples, ...); ``n_ref`` is the largest observed
``n`` and ``x = n / n_ref``. Most families are *anchored* at ``n_ref``:

* ``y_ref`` is the value of the curve at ``n_ref`` (on the metric's scale); the
  data pin it down, which keeps the posterior well shaped for NUTS;
* saturating families have an asymptote ``c = y_ref + room * (bound - y_ref)``,
  where ``bound`` is the metric's best possible value (1 for accuracy or mAP,
  the floor for a loss) and ``room`` in (0, 1) is the fraction of the remaining
  room that more data can still win. Their mean is
  ``f(n) = c + (y_ref - c) * r(x)``, with a *gap ratio* ``r(1) = 1`` that falls
  to 0 as ``x`` grows. The same formula serves increasing and decreasing
  metrics;
* unbounded families (``log``, ``loglog``, ``loglog_linear``) have no
  asymptote: ``f(n) = y_ref + s * b * g(n)`` with ``g(n_ref) = 0``, ``s = +1``
  for increasing metrics and ``-1`` for decreasing ones, and ``b`` the gain per
  e-fold of ``n`` at ``n_ref``. Under such a family *every* target is reached
  eventually; that is an assumption of the family, not a finding.

Mean functions receive an ``ops`` namespace (NumPy or PyTensor) so the same
formula builds the PyMC model and answers queries on saved posteriors without
importing PyMC.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from curvecast.errors import CurvecastError
from curvecast.priors import Prior

Array = Any

NUMPY_OPS = SimpleNamespace(exp=np.exp, log=np.log, log1p=np.log1p, where=np.where)


def pytensor_ops() -> SimpleNamespace:
    import pytensor.tensor as pt

    return SimpleNamespace(exp=pt.exp, log=pt.log, log1p=pt.log1p, where=pt.switch)


@dataclass(frozen=True)
class Scale:
    """Per-curve constants a mean function needs.

    ``sign`` is +1 for increasing metrics and -1 for decreasing ones; ``best``
    is the bound the metric improves towards and ``worst`` the other one
    (either may be ``None`` when the metric is unbounded on that side).
    """

    n_ref: float
    sign: float
    best: float | None
    worst: float | None


REGISTRY: dict[str, type[Family]] = {}
#: parameter names the shared noise and discrepancy code uses; no family may take them
RESERVED_PARAMS = ("sigma", "gamma", "disc_z")

_Y_REF = Prior("TruncatedNormal", mu="y_last", sigma="y_spread", lower="metric_min", upper="metric_max")
_ROOM = Prior("Beta", alpha=1.0, beta=3.0)


class Family:
    """Base class. Subclasses set the class attributes and ``mean`` (or ``ratio``)."""

    name: ClassVar[str]
    formula: ClassVar[str]
    #: parameter name -> support ("real", "positive" or "unit")
    params: ClassVar[dict[str, str]]
    #: default priors, one per parameter
    priors: ClassVar[dict[str, Prior]]
    #: False for families without an asymptote (P(reach) -> 1 for any target)
    bounded: ClassVar[bool] = True
    #: which metric bounds the formula needs: subset of {"best", "worst"}
    needs: ClassVar[tuple[str, ...]] = ("best",)
    #: the smallest n the formula accepts (exclusive)
    n_min: ClassVar[float] = 0.0
    #: True when the model samples ``room`` along the data's ridge (see ``model``): the
    #: family is a gap ratio ``r(x)`` with shape parameters besides ``y_ref`` and ``room``
    ridge: ClassVar[bool] = False
    #: parameter names of earlier versions -> today's (saved fits keep loading)
    renamed: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, register: bool = True, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if not register:
            return
        if cls.name in REGISTRY:
            raise TypeError(f"family {cls.name!r} is registered twice")
        clash = set(cls.params) & set(RESERVED_PARAMS)
        if clash:
            raise TypeError(f"family {cls.name!r}: parameter names {sorted(clash)} are reserved for the noise model")
        if set(cls.params) != set(cls.priors):
            raise TypeError(
                f"family {cls.name!r}: parameters {sorted(cls.params)} do not match prior keys {sorted(cls.priors)}"
            )
        REGISTRY[cls.name] = cls

    @classmethod
    def check_data(cls, data: Any) -> None:
        """Clear errors when this family cannot describe the metric of ``data`` at all."""
        if "best" in cls.needs and data.best_bound is None:
            side = "--metric-max (metric_max)" if data.increasing else "--metric-min (metric_min)"
            raise CurvecastError(
                f"family {cls.name!r} has an asymptote bounded by the metric's best value, "
                f"which is unknown here; pass {side} or use an unbounded family such as 'log'"
            )
        if "worst" in cls.needs and data.worst_bound is None:
            side = "--metric-min (metric_min)" if data.increasing else "--metric-max (metric_max)"
            raise CurvecastError(f"family {cls.name!r} starts from the metric's worst value; pass {side}")
        if cls.n_min > 0 and data.n.min() <= cls.n_min:
            raise CurvecastError(f"family {cls.name!r} needs every n > {cls.n_min:g}")

    # -- to implement -------------------------------------------------------
    @classmethod
    def mean(cls, n: Array, p: dict[str, Array], s: Scale, ops: Any = NUMPY_OPS) -> Array:
        raise NotImplementedError

    @classmethod
    def asymptote(cls, p: dict[str, Array], s: Scale) -> Array | None:
        """The metric's limit as n grows (None for unbounded families)."""
        return None

    @classmethod
    def inverse(cls, y: Array, p: dict[str, Array], s: Scale) -> np.ndarray:
        """The n at which the curve reaches ``y`` (inf: never; 0: at any n)."""
        return _bisect_inverse(cls, y, p, s)


def _bisect_inverse(fam: type[Family], y: Array, p: dict[str, Array], s: Scale) -> np.ndarray:
    """Vectorised bisection in log n; every family is monotone in n."""
    with np.errstate(all="ignore"):
        return _bisect(fam, y, p, s)


def _bisect(fam: type[Family], y: Array, p: dict[str, Array], s: Scale) -> np.ndarray:
    y = np.asarray(y, float)
    shape = np.broadcast_shapes(y.shape, *(np.shape(v) for v in p.values()))
    y = np.broadcast_to(y, shape)
    n_lo = fam.n_min * (1 + 1e-12) if fam.n_min > 0 else 1e-9 * s.n_ref  # just inside the formula's domain
    lo = np.full(shape, np.log(n_lo))
    hi = np.full(shape, np.log(s.n_ref) + 60.0)
    f_lo = s.sign * fam.mean(np.exp(lo), p, s)
    f_hi = s.sign * fam.mean(np.exp(hi), p, s)
    goal = s.sign * y
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        above = s.sign * fam.mean(np.exp(mid), p, s) >= goal
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    out = np.exp(0.5 * (lo + hi))
    out = np.where(f_hi < goal, np.inf, out)
    out = np.where(f_lo >= goal, 0.0, out)
    return np.asarray(out, float)


# ---------------------------------------------------------------------------
# Saturating families: f = c + (y_ref - c) * r(x)
# ---------------------------------------------------------------------------
class Saturating(Family, register=False):
    """Anchored family with an asymptote; subclasses give the gap ratio ``r``."""

    ridge = True

    @classmethod
    def ratio(cls, x: Array, p: dict[str, Array], ops: Any) -> Array:
        raise NotImplementedError

    @classmethod
    def ratio_inverse(cls, r: np.ndarray, p: dict[str, Array]) -> np.ndarray | None:
        """x with ratio(x) == r in closed form, or None to bisect."""
        return None

    @classmethod
    def asymptote(cls, p: dict[str, Array], s: Scale) -> Array:
        return p["y_ref"] + p["room"] * (s.best - p["y_ref"])

    @classmethod
    def mean(cls, n: Array, p: dict[str, Array], s: Scale, ops: Any = NUMPY_OPS) -> Array:
        c = cls.asymptote(p, s)
        return c + (p["y_ref"] - c) * cls.ratio(n / s.n_ref, p, ops)

    @classmethod
    def inverse(cls, y: Array, p: dict[str, Array], s: Scale) -> np.ndarray:
        c = np.asarray(cls.asymptote(p, s), float)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (c - y) / (c - p["y_ref"])
            x = cls.ratio_inverse(np.asarray(r, float), p)
        if x is None:
            return _bisect_inverse(cls, y, p, s)
        r0 = np.asarray(cls.ratio(np.asarray(1e-12), p, NUMPY_OPS), float)
        with np.errstate(invalid="ignore"):
            n = np.where(r <= 0, np.inf, np.where(r >= r0, 0.0, x * s.n_ref))
        return np.asarray(np.where(np.isnan(n), np.inf, n), float)


class Pow3(Saturating):
    """Power law with asymptote (Domhan et al.'s pow3): ``c - a * n^-alpha``.

    Anchored: ``r(x) = x^-alpha``. ``alpha`` ~ LogNormal centred on 0.4: error
    exponents in Hestness et al. (2017) span 0.07-0.35 without an asymptote, and
    fitted exponents grow once an asymptote absorbs the irreducible error.
    """

    name = "pow3"
    formula = "c - a * n^(-alpha)"
    params = {"y_ref": "real", "room": "unit", "alpha": "positive"}
    priors = {"y_ref": _Y_REF, "room": _ROOM, "alpha": Prior("LogNormal", mu=-0.9, sigma=0.8)}

    @classmethod
    def ratio(cls, x, p, ops):
        return x ** (-p["alpha"])

    @classmethod
    def ratio_inverse(cls, r, p):
        return r ** (-1.0 / p["alpha"])


class Pow4(Saturating):
    """Shifted power law (Domhan's pow4): ``c - (a * n + b)^-alpha``.

    Anchored: ``r(x) = ((x + k) / (1 + k))^-alpha``; ``k`` (in units of n_ref)
    is the offset at which the power law starts.
    """

    name = "pow4"
    formula = "c - (a * n + b)^(-alpha)"
    params = {"y_ref": "real", "room": "unit", "alpha": "positive", "k": "positive"}
    priors = {
        "y_ref": _Y_REF,
        "room": _ROOM,
        "alpha": Prior("LogNormal", mu=-0.5, sigma=1.0),
        "k": Prior("LogNormal", mu=-3.0, sigma=1.5),
    }

    @classmethod
    def ratio(cls, x, p, ops):
        return ((x + p["k"]) / (1.0 + p["k"])) ** (-p["alpha"])

    @classmethod
    def ratio_inverse(cls, r, p):
        return np.maximum((1.0 + p["k"]) * r ** (-1.0 / p["alpha"]) - p["k"], 0.0)


class Exp3(Saturating):
    """Asymptotic regression model, ARM / exp3: ``c - a * exp(-b * n)``.

    Anchored: ``r(x) = exp(-beta * (x - 1))``, ``beta`` the rate per n_ref.
    """

    name = "exp3"
    formula = "c - a * exp(-b * n)"
    params = {"y_ref": "real", "room": "unit", "beta": "positive"}
    priors = {"y_ref": _Y_REF, "room": _ROOM, "beta": Prior("LogNormal", mu=0.7, sigma=1.0)}

    @classmethod
    def ratio(cls, x, p, ops):
        return ops.exp(-p["beta"] * (x - 1.0))

    @classmethod
    def ratio_inverse(cls, r, p):
        return 1.0 - np.log(r) / p["beta"]


class Exp4(Saturating):
    """Domhan's exp4: ``c - exp(-a * n^delta + b)``.

    Anchored: ``r(x) = exp(-beta * (x^delta - 1))``.
    """

    name = "exp4"
    formula = "c - exp(-a * n^delta + b)"
    params = {"y_ref": "real", "room": "unit", "beta": "positive", "delta": "positive"}
    priors = {
        "y_ref": _Y_REF,
        "room": _ROOM,
        "beta": Prior("LogNormal", mu=0.0, sigma=1.0),
        "delta": Prior("LogNormal", mu=-1.0, sigma=0.7),
    }

    @classmethod
    def ratio(cls, x, p, ops):
        return ops.exp(-p["beta"] * (x ** p["delta"] - 1.0))

    @classmethod
    def ratio_inverse(cls, r, p):
        return np.maximum(1.0 - np.log(r) / p["beta"], 0.0) ** (1.0 / p["delta"])


class Janoschek(Exp4):
    """Janoschek: ``alpha - (alpha - beta) * exp(-kappa * n^delta)``.

    Once anchored this is exp4 (its ``kappa`` is exp4's ``beta``): a prior
    preset of exp4 that favours slower, more gradual saturation. Fits saved
    under this name with the old parameter name ``kappa`` still load.
    """

    name = "janoschek"
    formula = "alpha - (alpha - beta) * exp(-kappa * n^delta)  [prior preset of exp4]"
    renamed = {"kappa": "beta"}
    priors = {
        **Exp4.priors,
        "beta": Prior("LogNormal", mu=0.5, sigma=1.0),
        "delta": Prior("LogNormal", mu=-1.6, sigma=0.6),
    }


class Weibull(Saturating):
    """Weibull: ``alpha - (alpha - beta) * exp(-(kappa * n)^delta)``.

    Anchored: ``r(x) = exp(kappa^delta - (kappa * x)^delta)``; ``kappa`` is an
    inverse scale in units of n_ref.
    """

    name = "weibull"
    formula = "alpha - (alpha - beta) * exp(-(kappa * n)^delta)"
    params = {"y_ref": "real", "room": "unit", "kappa": "positive", "delta": "positive"}
    priors = {
        "y_ref": _Y_REF,
        "room": _ROOM,
        "kappa": Prior("LogNormal", mu=1.0, sigma=1.5),
        "delta": Prior("LogNormal", mu=-1.0, sigma=0.7),
    }

    @classmethod
    def ratio(cls, x, p, ops):
        kd = p["kappa"] ** p["delta"]
        return ops.exp(kd - (p["kappa"] * x) ** p["delta"])

    @classmethod
    def ratio_inverse(cls, r, p):
        kd = p["kappa"] ** p["delta"]
        return np.maximum(kd - np.log(r), 0.0) ** (1.0 / p["delta"]) / p["kappa"]


class MMF(Saturating):
    """Morgan-Mercer-Flodin: ``alpha - (alpha - beta) / (1 + (kappa * n)^delta)``.

    Anchored: ``r(x) = (1 + kappa^delta) / (1 + (kappa * x)^delta)``.
    """

    name = "mmf"
    formula = "alpha - (alpha - beta) / (1 + (kappa * n)^delta)"
    params = {"y_ref": "real", "room": "unit", "kappa": "positive", "delta": "positive"}
    priors = {
        "y_ref": _Y_REF,
        "room": _ROOM,
        "kappa": Prior("LogNormal", mu=1.0, sigma=1.5),
        "delta": Prior("LogNormal", mu=-0.5, sigma=0.7),
    }

    @classmethod
    def ratio(cls, x, p, ops):
        kd = p["kappa"] ** p["delta"]
        return (1.0 + kd) / (1.0 + (p["kappa"] * x) ** p["delta"])

    @classmethod
    def ratio_inverse(cls, r, p):
        kd = p["kappa"] ** p["delta"]
        return np.maximum((1.0 + kd) / r - 1.0, 0.0) ** (1.0 / p["delta"]) / p["kappa"]


class VaporPressure(Saturating):
    """Vapor pressure (Domhan's vap): ``exp(a + b / n + c * log(n))``, written
    as a gap to the asymptote.

    Anchored: ``r(x) = x^-alpha * exp(beta * (1/x - 1))``; the ``1/n`` term
    lets the early gap close faster than a pure power law.
    """

    name = "vap"
    formula = "c - exp(a + b / n + d * log(n))"
    params = {"y_ref": "real", "room": "unit", "alpha": "positive", "beta": "positive"}
    priors = {
        "y_ref": _Y_REF,
        "room": _ROOM,
        "alpha": Prior("LogNormal", mu=-1.2, sigma=0.8),
        "beta": Prior("LogNormal", mu=-3.0, sigma=1.0),
    }

    @classmethod
    def ratio(cls, x, p, ops):
        return x ** (-p["alpha"]) * ops.exp(p["beta"] * (1.0 / x - 1.0))


class ILog2(Saturating):
    """Inverse log (Domhan's ilog2): ``c - a / log(n)``.

    Anchored: ``r(n) = log(1 + n_ref) / log(1 + n)``, using ``log(1 + n)`` so
    the formula holds for every n > 0. Approaches its asymptote very slowly.
    """

    name = "ilog2"
    ridge = False  # no shape parameter: nothing to straighten
    formula = "c - a / log(n)"
    params = {"y_ref": "real", "room": "unit"}
    priors = {"y_ref": _Y_REF, "room": Prior("Beta", alpha=1.0, beta=2.0)}

    @classmethod
    def mean(cls, n, p, s, ops=NUMPY_OPS):
        c = cls.asymptote(p, s)
        return c + (p["y_ref"] - c) * (ops.log1p(s.n_ref) / ops.log1p(n))

    @classmethod
    def inverse(cls, y, p, s):
        c = np.asarray(cls.asymptote(p, s), float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = (c - y) / (c - p["y_ref"])
            n = np.expm1(np.log1p(s.n_ref) / r)
            n = np.where(r <= 0, np.inf, n)
        return np.asarray(np.where(np.isnan(n), np.inf, n), float)


class BrokenPowerLaw(Saturating):
    """Smoothly broken power law with one break (Caballero et al. 2022).

    ``y = c - b * n^-alpha0 * (1 + (n / d)^(1/s))^(-alpha1 * s)``. Anchored:
    ``r(x) = g(x) / g(1)`` with ``g(x) = x^-alpha0 (1 + (x / x_b)^(1/s))^(-alpha1 s)``:
    the exponent changes from ``alpha0`` to ``alpha0 + alpha1`` around ``x_b``.
    """

    name = "bpl"
    formula = "c - b * n^(-alpha0) * (1 + (n / d)^(1/s))^(-alpha1 * s)"
    params = {
        "y_ref": "real",
        "room": "unit",
        "alpha0": "positive",
        "alpha1": "positive",
        "x_b": "positive",
        "s": "positive",
    }
    priors = {
        "y_ref": _Y_REF,
        "room": _ROOM,
        "alpha0": Prior("LogNormal", mu=-1.2, sigma=0.8),
        "alpha1": Prior("LogNormal", mu=-1.6, sigma=1.0),
        "x_b": Prior("LogNormal", mu=0.0, sigma=1.5),
        "s": Prior("LogNormal", mu=-0.7, sigma=0.5),
    }

    @classmethod
    def ratio(cls, x, p, ops):
        def g(z):
            return z ** (-p["alpha0"]) * (1.0 + (z / p["x_b"]) ** (1.0 / p["s"])) ** (-p["alpha1"] * p["s"])

        return g(x) / g(1.0)


class _Sigmoid(Saturating, register=False):
    """Rises from the metric's worst value ``W`` along a logistic in log n.

    ``f = W + (c - W) * x^eta / (K + x^eta)`` with ``K`` fixed by the anchor
    ``f(n_ref) = y_ref``: ``K = (c - y_ref) / (y_ref - W)``.
    """

    needs = ("best", "worst")
    ridge = False  # written as a rise from the worst value, not as a gap ratio

    @classmethod
    def mean(cls, n, p, s, ops=NUMPY_OPS):
        c = cls.asymptote(p, s)
        k = (c - p["y_ref"]) / (p["y_ref"] - s.worst)
        xe = (n / s.n_ref) ** p["eta"]
        return s.worst + (c - s.worst) * xe / (k + xe)

    @classmethod
    def inverse(cls, y, p, s):
        c = np.asarray(cls.asymptote(p, s), float)
        k = (c - p["y_ref"]) / (p["y_ref"] - s.worst)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = (y - s.worst) / (c - s.worst)  # fraction of the rise
            x = (k * q / (1.0 - q)) ** (1.0 / p["eta"])
            n = np.where(q >= 1, np.inf, np.where(q <= 0, 0.0, x * s.n_ref))
        return np.asarray(np.where(np.isnan(n), np.inf, n), float)


class Hill3(_Sigmoid):
    """Hill equation (Domhan's hill3): ``y_max * n^eta / (kappa^eta + n^eta)``.

    Starts at the metric's worst value (0 for accuracy or mAP) and needs both
    bounds; ``kappa`` is determined by the anchor ``y_ref``.
    """

    name = "hill3"
    formula = "W + (y_max - W) * n^eta / (kappa^eta + n^eta)"
    params = {"y_ref": "real", "room": "unit", "eta": "positive"}
    priors = {"y_ref": _Y_REF, "room": _ROOM, "eta": Prior("LogNormal", mu=-0.7, sigma=0.7)}


class LogPower(Hill3):
    """Log power (Domhan's log_power): ``a / (1 + (n / e^b)^c)``, c < 0.

    The same curves as hill3 (``eta = -c``, ``kappa = e^b``): a prior preset of
    hill3 favouring steeper rises.
    """

    name = "log_power"
    formula = "W + (a - W) / (1 + (n / e^b)^c)  [prior preset of hill3]"
    priors = {**Hill3.priors, "eta": Prior("LogNormal", mu=0.0, sigma=0.5)}


class Pareto(Family):
    """One-parameter Pareto CDF (the seed blog's): ``1 - n^-alpha``.

    Generalised to the metric's bounds: ``best - (best - worst) * n^-alpha``;
    the asymptote is the bound itself, so P(reach) -> 1 for every target.
    """

    name = "pareto"
    formula = "best - (best - worst) * n^(-alpha)"
    params = {"alpha": "positive"}
    priors = {"alpha": Prior("LogNormal", mu=-2.5, sigma=1.0)}
    needs = ("best", "worst")

    @classmethod
    def mean(cls, n, p, s, ops=NUMPY_OPS):
        return s.best - (s.best - s.worst) * n ** (-p["alpha"])

    @classmethod
    def asymptote(cls, p, s):
        return np.broadcast_to(np.asarray(s.best, float), np.shape(p["alpha"]))

    @classmethod
    def inverse(cls, y, p, s):
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.asarray((s.best - np.asarray(y, float)) / (s.best - s.worst), float)
            n = np.where(q <= 0, np.inf, np.where(q >= 1, 0.0, np.abs(q) ** (-1.0 / np.asarray(p["alpha"], float))))
        return np.asarray(n, float)


# ---------------------------------------------------------------------------
# Unbounded families: f = y_ref + s * b * g(n), g(n_ref) = 0
# ---------------------------------------------------------------------------
_SLOPE = Prior("HalfNormal", sigma="y_spread")


class Unbounded(Family, register=False):
    """No asymptote: the curve keeps improving without limit."""

    bounded = False
    needs = ()

    @classmethod
    def g(cls, n, p, s, ops):
        raise NotImplementedError

    @classmethod
    def g_inverse(cls, gv, p, s):
        raise NotImplementedError

    @classmethod
    def mean(cls, n, p, s, ops=NUMPY_OPS):
        return p["y_ref"] + s.sign * p["b"] * cls.g(n, p, s, ops)

    @classmethod
    def inverse(cls, y, p, s):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            gv = s.sign * (y - p["y_ref"]) / p["b"]
            n = cls.g_inverse(gv, p, s)
        return np.asarray(np.where(np.isnan(n), 0.0, n), float)


class Log(Unbounded):
    """Logarithmic regression (the seed blog's recommendation): ``a + b * log(n)``."""

    name = "log"
    formula = "a + b * log(n)"
    params = {"y_ref": "real", "b": "positive"}
    priors = {"y_ref": _Y_REF, "b": _SLOPE}

    @classmethod
    def g(cls, n, p, s, ops):
        return ops.log(n / s.n_ref)

    @classmethod
    def g_inverse(cls, gv, p, s):
        return s.n_ref * np.exp(gv)


class LogLog(Unbounded):
    """Log-log: ``a + b * log(log(n))`` (needs n > 1).

    ``b`` is rescaled to the gain per e-fold of n at n_ref:
    ``g(n) = log(n_ref) * (log(log n) - log(log n_ref))``.
    """

    name = "loglog"
    formula = "a + b * log(log(n))"
    params = {"y_ref": "real", "b": "positive"}
    priors = {"y_ref": _Y_REF, "b": _SLOPE}
    n_min = 1.0

    @classmethod
    def g(cls, n, p, s, ops):
        ln_ref = ops.log(s.n_ref)
        return ln_ref * (ops.log(ops.log(n)) - ops.log(ln_ref))

    @classmethod
    def g_inverse(cls, gv, p, s):
        ln_ref = np.log(s.n_ref)
        return np.exp(np.exp(gv / ln_ref + np.log(ln_ref)))


class LogLogLinear(Unbounded):
    """Log-log linear (Domhan's loglog_linear): ``log(a * log(n) + b)``.

    Written with ``log(1 + n)`` so it holds for all n > 0, scaled so that ``b``
    is the gain per e-fold of n at n_ref:
    ``g(n) = (L_ref + k) * log((log(1 + n) + k) / (L_ref + k))``, ``L_ref = log(1 + n_ref)``.
    """

    name = "loglog_linear"
    formula = "log(a * log(n) + b)"
    params = {"y_ref": "real", "b": "positive", "k": "positive"}
    priors = {"y_ref": _Y_REF, "b": _SLOPE, "k": Prior("LogNormal", mu=1.0, sigma=1.0)}

    @classmethod
    def g(cls, n, p, s, ops):
        lk = ops.log1p(s.n_ref) + p["k"]
        return lk * ops.log((ops.log1p(n) + p["k"]) / lk)

    @classmethod
    def g_inverse(cls, gv, p, s):
        lk = np.log1p(s.n_ref) + p["k"]
        return np.expm1(np.maximum(lk * np.exp(gv / lk) - p["k"], 0.0))


def get_family(name: str) -> type[Family]:
    """Look up a registered family, with a helpful error."""
    if name in REGISTRY:
        return REGISTRY[name]
    if "+" in name or name == "auto":  # valid for one curve's fit (inference.fit), which resolves them first
        raise CurvecastError(
            f"{name!r} combines families, but pooled fits and prior comparisons take one family; "
            "pass e.g. --family pow3"
        )
    raise CurvecastError(f"unknown family {name!r}; known families: {', '.join(REGISTRY)}")
