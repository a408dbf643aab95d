"""Build the PyMC model of one curve family.

Data, data-dependent prior constants and the scale constants enter as
``pm.Data`` so that one compiled model per (family, prior structure) serves
every curve: a new curve only swaps the data (see ``engine``).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from curvecast.data import CurveData
from curvecast.families import Family, Saturating, Scale, pytensor_ops
from curvecast.priors import SYMBOLS, Prior


def data_values(family: type[Family], data: CurveData) -> dict[str, Any]:
    """The values of every ``pm.Data`` input of the model for this curve."""
    sym = data.symbols()
    return {
        "n_obs": data.n,
        "y_obs": data.y,
        "n_ref": np.float64(data.n_ref),
        "sign": np.float64(data.sign),
        "best": np.float64(
            data.best_bound if data.best_bound is not None else sym["metric_max" if data.increasing else "metric_min"]
        ),
        "worst": np.float64(
            data.worst_bound if data.worst_bound is not None else sym["metric_min" if data.increasing else "metric_max"]
        ),
        **{f"sym_{k}": np.float64(v) for k, v in sym.items()},
    }


def _has_ridge(family: type[Family]) -> bool:
    """Saturating families with a gap ratio and shape parameters besides y_ref and room."""
    return (
        issubclass(family, Saturating)
        and family.ratio.__func__ is not Saturating.ratio.__func__  # type: ignore[attr-defined]
        and "room" in family.params
        and len(set(family.params) - {"y_ref", "room"}) > 0
    )


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


def build_model(family: type[Family], data: CurveData, priors: dict[str, Prior], ridge_coordinates: bool = True) -> Any:
    """The PyMC model ``y_obs ~ Normal(f(n_obs; theta), sigma_i)``.

    ``sigma_i = sigma`` without replicates; with replicates
    ``sigma_i = sigma * (n_i / n_ref)^-gamma``. Saturating families sample
    ``room`` along the data's ridge (``_room_along_ridge``; same posterior, far
    fewer divergences); ``ridge_coordinates=False`` samples ``logit(room)`` directly.
    """
    import pymc as pm

    values = data_values(family, data)
    with pm.Model() as model:
        d = {k: pm.Data(k, v) for k, v in values.items() if not k.startswith("sym_")}
        syms = {k[4:]: pm.Data(k, v) for k, v in values.items() if k.startswith("sym_")}
        assert set(syms) == set(SYMBOLS)
        theta = {}
        ridge = ridge_coordinates and _has_ridge(family)
        for pname in family.params:
            if not (ridge and pname == "room"):
                theta[pname] = priors[pname].to_pymc(pname, priors[pname].resolve(syms))
        if ridge:
            sat = cast(type[Saturating], family)
            theta["room"] = _room_along_ridge(sat, theta, d, priors["room"].to_dist(priors["room"].resolve(syms)))
        scale = Scale(n_ref=d["n_ref"], sign=d["sign"], best=d["best"], worst=d["worst"])
        mu = family.mean(d["n_obs"], theta, scale, pytensor_ops())
        sigma = priors["sigma"].to_pymc("sigma", priors["sigma"].resolve(syms))
        if data.has_replicates:
            gamma = priors["gamma"].to_pymc("gamma", priors["gamma"].resolve(syms))
            sigma = sigma * (d["n_obs"] / d["n_ref"]) ** (-gamma)
        pm.Normal("y", mu=mu, sigma=sigma, observed=d["y_obs"], shape=d["n_obs"].shape)
    return model
