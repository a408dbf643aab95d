"""Build the PyMC model of one curve family, for one curve or several pooled curves.

:class:`ModelSpec` is the one builder. Data, data-dependent prior constants and
the scale constants enter as ``pm.Data`` so that one compiled model per
:meth:`ModelSpec.identity` serves every curve (or every set of K curves): new
curves only swap the data (see :mod:`curvecast.engines`).

One curve: ``y_i ~ Normal(f(n_i; theta), sigma_i)``, each parameter with its
``Prior``; ``sigma_i = sigma * (n_i / n_ref)^-gamma`` when the curve has replicate
runs or at least ``HETERO_MIN_SIZES`` sizes (points far below n_ref are noisier and
less like the regime of the forecast, and ``gamma`` learns by how much), else
``sigma_i = sigma``; saturating families with a ridge (``Family.ridge``) sample ``room``
along the data's ridge.

Several curves (``curve`` dimension, K curves): every parameter has one value
per curve. Unpooled parameters (by default the level ``y_ref``, and the noise
``sigma``, ``gamma``) keep their own ``Prior``, resolved with each curve's data
symbols. A pooled parameter ``p`` is non-centred hierarchical:
``link(p_c) = mu_p + tau_p * z_c`` with ``link = log`` for positive and
``logit`` for unit parameters, ``mu_p ~ Normal(loc, scale)`` centred on ``p``'s
``Prior`` (so user priors are honoured), ``tau_p ~ HalfNormal(0.5)`` and
``z_c ~ Normal(0, 1)``. The observations of all curves are concatenated, with a
curve index carried as float data (every data input is float64).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.families import Family, Saturating, Scale, pytensor_ops
from curvecast.priors import SYMBOLS, Prior

#: bump when the graph a ModelSpec builds changes in a way its identity does not show
_GRAPH_VERSION = 1
#: the level parameter is not pooled by default: each curve has its own ceiling
UNPOOLED = ("y_ref",)
#: the prior distributions a pooled parameter may have (they fix its hyper-mean)
POOLABLE = ("LogNormal", "Beta")
#: distinct sizes from which the noise scale's trend in n (``gamma``) is fitted without replicates
HETERO_MIN_SIZES = 4
#: the per-curve scale constants besides the data symbols
_SCALARS = ("n_ref", "sign", "best", "worst")


def pooled_params(family: type[Family]) -> tuple[str, ...]:
    """The parameters pooled by default: every family parameter except the level ``y_ref``."""
    return tuple(p for p in family.params if p not in UNPOOLED)


#: between-curve spread of a pooled parameter on its link scale: tau ~ HalfNormal(at most this)
TAU_SCALE = 0.5


def hyper_center(name: str, prior: Prior) -> tuple[float, float, float]:
    """Location and scale of ``mu_<name>`` on the link scale (log for LogNormal, logit of the mean for
    Beta), and the prior's own spread there (a Beta's logit SD is sqrt(trigamma(a) + trigamma(b))).
    The spread bounds a Beta's centre scale (at most 1) and ``tau_<name>`` (at most :data:`TAU_SCALE`):
    a tight prior stays tight when pooled; the defaults' spreads exceed both bounds."""
    p = prior.params
    if any(isinstance(v, str) for v in p.values()):
        raise CurvecastError(f"cannot pool {name!r}: its prior {prior.describe()} names a data symbol; give numbers")
    if prior.dist == "LogNormal":
        return float(p["mu"]), float(p["sigma"]), float(p["sigma"])
    if prior.dist == "Beta":
        from scipy.special import polygamma

        a, b = float(p["alpha"]), float(p["beta"])
        spread = math.sqrt(float(polygamma(1, a) + polygamma(1, b)))
        return math.log(a / b), min(1.0, spread), spread  # logit of the mean a / (a + b)
    raise CurvecastError(
        f"cannot pool {name!r} with a {prior.dist} prior; pooled parameters need one of {', '.join(POOLABLE)}"
    )


def _curve_values(data: CurveData) -> dict[str, float]:
    """The per-curve scalar inputs: scale constants and data symbols (``sym_*``)."""
    sym = data.symbols()
    best = data.best_bound if data.best_bound is not None else sym["metric_max" if data.increasing else "metric_min"]
    worst = data.worst_bound if data.worst_bound is not None else sym["metric_min" if data.increasing else "metric_max"]
    out = {"n_ref": data.n_ref, "sign": data.sign, "best": best, "worst": worst}
    return out | {f"sym_{k}": v for k, v in sym.items()}


@dataclass(frozen=True)
class ModelSpec:
    """What to build: a family, one or more curves, merged priors and the pooled parameters.

    Parameters
    ----------
    family : type[Family]
    curves : tuple of CurveData
        One curve: an ordinary fit. Several: one joint model with a ``curve`` dimension.
    priors : dict
        Merged priors (``prior_sets.merged_priors``): every family parameter and the noise.
    pooled : tuple of str
        Parameters with a hierarchical prior across curves (only with several curves).
    """

    family: type[Family]
    curves: tuple[CurveData, ...]
    priors: dict[str, Prior]
    pooled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "curves", tuple(self.curves))
        object.__setattr__(self, "pooled", tuple(self.pooled))
        if not self.curves:
            raise CurvecastError("a model needs at least one curve")
        if self.pooled and len(self.curves) < 2:
            raise CurvecastError("pooling needs at least two curves")
        unknown = [p for p in self.pooled if p not in self.family.params]
        if unknown:
            raise CurvecastError(
                f"cannot pool {unknown}: not parameters of {self.family.name!r} ({', '.join(self.family.params)})"
            )
        names = [c.name for c in self.curves]
        if len(self.curves) > 1 and len(set(names)) < len(names):
            raise CurvecastError("pooled curves need distinct names")
        missing = [p for p in self.param_names if p not in self.priors]
        if missing:
            raise CurvecastError(f"no prior for {missing}; pass merged priors (prior_sets.merged_priors)")
        for p in self.pooled:
            hyper_center(p, self.priors[p])

    # -- what the model is ----------------------------------------------------
    @property
    def multi(self) -> bool:
        """True for a model with a ``curve`` dimension (several curves)."""
        return len(self.curves) > 1

    @property
    def hetero(self) -> bool:
        """True when the noise may shrink with n (``gamma``): a curve has replicate runs or
        at least :data:`HETERO_MIN_SIZES` distinct sizes."""
        return any(c.has_replicates or np.unique(c.n).size >= HETERO_MIN_SIZES for c in self.curves)

    @property
    def param_names(self) -> list[str]:
        """Family parameters and noise parameters, as named in the posterior."""
        return [*self.family.params, "sigma", *(["gamma"] if self.hetero else [])]

    @property
    def free_vars(self) -> list[str]:
        """Sampled parameters to diagnose (r-hat, ESS)."""
        if not self.pooled:
            return self.param_names
        hyper = [f"{k}_{p}" for p in self.pooled for k in ("mu", "tau", "z")]
        return [p for p in self.param_names if p not in self.pooled] + hyper

    def identity(self) -> tuple[Any, ...]:
        """What determines the compiled model; the data values are excluded."""
        priors = tuple(sorted((k, p.dist, repr(sorted(p.params.items()))) for k, p in self.priors.items()))
        return (
            "curvecast-model",
            _GRAPH_VERSION,
            self.family.name,
            len(self.curves),
            self.pooled,
            self.hetero,
            priors,
        )

    def values(self) -> dict[str, np.ndarray]:
        """The value of every ``pm.Data`` input for these curves (all float64)."""
        if not self.multi:
            c = self.curves[0]
            out = {"n_obs": c.n, "y_obs": c.y}
            return out | {k: np.asarray(v, dtype=np.float64) for k, v in _curve_values(c).items()}
        per = [_curve_values(c) for c in self.curves]
        out = {
            "n_obs": np.concatenate([c.n for c in self.curves]),
            "y_obs": np.concatenate([c.y for c in self.curves]),
            "curve_idx": np.concatenate([np.full(c.n.size, float(i)) for i, c in enumerate(self.curves)]),
        }
        return out | {k: np.array([v[k] for v in per], dtype=np.float64) for k in per[0]}

    @property
    def coords(self) -> dict[str, list[str]]:
        """``{"curve": curve names}`` for a model of several curves, else empty."""
        return {"curve": [c.name for c in self.curves]} if self.multi else {}

    # -- building -----------------------------------------------------------
    def build(self, *, ridge_coordinates: bool = True) -> Any:
        """The PyMC model.

        ``sigma_i = sigma * (n_i / n_ref)^-gamma`` when :attr:`hetero`, else ``sigma``. A single curve of a family with
        ``Family.ridge`` samples ``room`` along the data's ridge (same posterior, far
        fewer divergences); ``ridge_coordinates=False`` samples ``logit(room)`` directly.
        """
        import pymc as pm
        import pytensor.tensor as pt

        values = self.values()
        fam = self.family
        with pm.Model(coords=self.coords) as model:
            d = {k: pm.Data(k, v) for k, v in values.items() if not k.startswith("sym_")}
            syms = {k[4:]: pm.Data(k, v) for k, v in values.items() if k.startswith("sym_")}
            assert set(syms) == set(SYMBOLS)
            if self.multi:
                idx = pt.cast(d["curve_idx"], "int64")
                theta = {p: self._per_curve(p, syms) for p in fam.params}
                sigma = self._prior_rv("sigma", syms)
                gamma = self._prior_rv("gamma", syms) if self.hetero else None
                obs = {p: v[idx] for p, v in theta.items()}
                n_ref, sigma_obs = d["n_ref"][idx], sigma[idx]
                scale = Scale(n_ref=n_ref, sign=d["sign"][idx], best=d["best"][idx], worst=d["worst"][idx])
                if gamma is not None:
                    sigma_obs = sigma_obs * (d["n_obs"] / n_ref) ** (-gamma[idx])
                mu = fam.mean(d["n_obs"], obs, scale, pytensor_ops())
            else:
                ridge = ridge_coordinates and fam.ridge
                theta = {p: self._prior_rv(p, syms) for p in fam.params if not (ridge and p == "room")}
                if ridge:
                    room = self.priors["room"]
                    sat = cast(type[Saturating], fam)
                    theta["room"] = _room_along_ridge(sat, theta, d, room.to_dist(room.resolve(syms)))
                scale = Scale(n_ref=d["n_ref"], sign=d["sign"], best=d["best"], worst=d["worst"])
                mu = fam.mean(d["n_obs"], theta, scale, pytensor_ops())
                sigma_obs = self._prior_rv("sigma", syms)
                if self.hetero:
                    gamma = self._prior_rv("gamma", syms)
                    sigma_obs = sigma_obs * (d["n_obs"] / d["n_ref"]) ** (-gamma)
            pm.Normal("y", mu=mu, sigma=sigma_obs, observed=d["y_obs"], shape=d["n_obs"].shape)
        return model

    def _prior_rv(self, name: str, syms: dict[str, Any]) -> Any:
        """``name`` with its own prior (one value per curve in a model of several curves)."""
        prior = self.priors[name]
        return prior.to_pymc(name, prior.resolve(syms), **({"dims": "curve"} if self.multi else {}))

    def _per_curve(self, name: str, syms: dict[str, Any]) -> Any:
        """A family parameter of a model of several curves: its own prior, or pooled."""
        if name not in self.pooled:
            return self._prior_rv(name, syms)
        import pymc as pm
        import pytensor.tensor as pt

        prior = self.priors[name]
        loc, scale, spread = hyper_center(name, prior)
        mu = pm.Normal(f"mu_{name}", loc, scale)
        tau = pm.HalfNormal(f"tau_{name}", min(TAU_SCALE, spread))
        z = pm.Normal(f"z_{name}", 0.0, 1.0, dims="curve")
        raw = mu + tau * z
        return pm.Deterministic(name, pt.exp(raw) if prior.dist == "LogNormal" else pt.sigmoid(raw), dims="curve")


def _room_along_ridge(family: type[Saturating], theta: dict[str, Any], d: dict[str, Any], prior: Any) -> Any:
    """``room`` with its prior unchanged, but sampled in coordinates that follow the data.

    The data pin the rise the curve makes over the observed sizes,
    ``room * (best - y_ref) * (r(x_min) - 1)``, not ``room`` itself; when an early
    jump forces a large exponent, ``logit(room)`` and the shape parameters lie on a
    narrow curved ridge that NUTS crosses with divergences. Sampling
    ``room_shifted = logit(room) + log(r(x_min) - 1)`` instead straightens it. The map
    from (room_shifted, shape) to (logit room, shape) is triangular with unit
    Jacobian, so adding ``room``'s prior density in logit space (prior logp plus
    log room + log(1 - room)) leaves the posterior exactly as before. ``prior`` is
    room's prior as an unnamed PyMC distribution (``Prior.to_dist``).
    """
    import pymc as pm
    import pytensor.tensor as pt

    x_min = pt.min(d["n_obs"]) / d["n_ref"]
    r_min = family.ratio(x_min, theta, pytensor_ops())
    log_rise = pt.log(pt.maximum(r_min - 1.0, 1e-300))
    shifted = pm.Flat("room_shifted")
    logit_room = shifted - log_rise
    room = pm.Deterministic("room", pt.sigmoid(logit_room))
    jacobian = -pt.softplus(-logit_room) - pt.softplus(logit_room)  # log room + log(1 - room), stably
    pm.Potential("room_prior", pm.logp(prior, room) + jacobian)
    return room
