"""Fit one curve family with NUTS and keep everything needed to answer queries."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError, DiagnosticsWarning
from curvecast.families import Family, Scale, get_family
from curvecast.forecast import Forecast
from curvecast.priors import Prior, PriorSet

#: thresholds a fit must meet to count as healthy
RHAT_MAX = 1.01
ESS_MIN = 400


def diagnose(idata: Any, var_names: list[str]) -> dict[str, Any]:
    """Divergences, max r-hat and min bulk/tail ESS over the free parameters."""
    import arviz as az

    post = idata.posterior[var_names]
    rhat = az.rhat(post)
    ess_b = az.ess(post, method="bulk")
    ess_t = az.ess(post, method="tail")
    div = int(np.asarray(idata.sample_stats["diverging"]).sum())
    rhat_max = float(max(float(rhat[v].max()) for v in var_names))
    out = {
        "divergences": div,
        "rhat_max": rhat_max,
        "ess_bulk_min": float(min(float(ess_b[v].min()) for v in var_names)),
        "ess_tail_min": float(min(float(ess_t[v].min()) for v in var_names)),
    }
    out["problems"] = diagnostic_problems(out)
    out["ok"] = not out["problems"]
    return out


def diagnostic_problems(d: dict[str, Any]) -> list[str]:
    out = []
    if d["divergences"] > 0:
        out.append(f"{d['divergences']} divergent transitions")
    if not d["rhat_max"] <= RHAT_MAX:
        out.append(f"r-hat {d['rhat_max']:.3f} > {RHAT_MAX}")
    if not d["ess_bulk_min"] >= ESS_MIN:
        out.append(f"bulk ESS {d['ess_bulk_min']:.0f} < {ESS_MIN}")
    if not d["ess_tail_min"] >= ESS_MIN:
        out.append(f"tail ESS {d['ess_tail_min']:.0f} < {ESS_MIN}")
    return out


def warn_if_unhealthy(diag: dict[str, Any], what: str) -> None:
    if diag["problems"]:
        warnings.warn(
            f"{what}: sampler diagnostics failed ({'; '.join(diag['problems'])}); "
            "treat the answers with caution, or refit with more draws",
            DiagnosticsWarning,
            stacklevel=3,
        )


class CurveFit(Forecast):
    """A posterior over one family's curves. Carries ArviZ ``InferenceData`` as ``idata_``.

    Use :func:`fit` to create one, :meth:`save` / :func:`curvecast.load` to persist.
    """

    def __init__(self, family: type[Family], data: CurveData, priors: dict[str, Prior],
                 params: dict[str, np.ndarray], diagnostics: dict[str, Any],
                 settings: dict[str, Any], idata: Any = None, source: str | None = None) -> None:
        self.family = family
        self.data = data
        self.priors = priors
        self.params_ = {k: np.asarray(v, float).reshape(-1) for k, v in params.items()}
        self.diagnostics = diagnostics
        self.settings = settings
        self.bounded = family.bounded
        self._idata = idata
        self._source = source

    @property
    def scale(self) -> Scale:
        d = self.data
        return Scale(n_ref=d.n_ref, sign=d.sign, best=d.best_bound, worst=d.worst_bound)

    @property
    def idata_(self) -> Any:
        """ArviZ InferenceData (loaded lazily for fits read from disk)."""
        if self._idata is None and self._source is not None:
            import arviz as az

            self._idata = az.from_netcdf(self._source)
        return self._idata

    @property
    def label(self) -> str:
        return self.family.name

    @property
    def n_draws(self) -> int:
        return int(self.params_["sigma"].size)

    def _theta(self, extra_dim: bool) -> dict[str, np.ndarray]:
        return {k: (v[:, None] if extra_dim else v) for k, v in self.params_.items()}

    def latent(self, n: Any) -> np.ndarray:
        n = np.atleast_1d(np.asarray(n, float))
        with np.errstate(all="ignore"):
            out = self.family.mean(n[None, :], self._theta(True), self.scale)
        return np.asarray(np.broadcast_to(out, (self.n_draws, n.size)), float)

    def sigma_draws(self) -> np.ndarray:
        return self.params_["sigma"]

    def n_star(self, target: float) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.family.inverse(float(target), self._theta(False), self.scale), float)

    def asymptote(self) -> np.ndarray | None:
        a = self.family.asymptote(self._theta(False), self.scale)
        return None if a is None else np.asarray(a, float)

    def summary(self) -> dict[str, Any]:
        """Posterior medians and 90 % intervals of the parameters (and the asymptote)."""
        rows = dict(self.params_)
        a = self.asymptote()
        if a is not None:
            rows["asymptote"] = a
        return {
            k: {"median": float(np.median(v)), "q5": float(np.quantile(v, 0.05)), "q95": float(np.quantile(v, 0.95))}
            for k, v in rows.items()
        }

    def save(self, path: str) -> None:
        from curvecast.persist import save_fit

        save_fit(self, path)

    def __repr__(self) -> str:
        d = self.diagnostics
        return (f"CurveFit(family={self.family.name!r}, curve={self.data.name!r}, n_points={self.data.n.size}, "
                f"draws={self.n_draws}, divergences={d.get('divergences')}, rhat_max={d.get('rhat_max', float('nan')):.3f})")


def fit(
    n: Any = None,
    y: Any = None,
    *,
    data: CurveData | None = None,
    family: str = "pow3",
    priors: PriorSet | str | None = None,
    increasing: bool = True,
    metric_min: float | None = None,
    metric_max: float | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.95,
    engine: str | None = None,
    name: str = "curve",
) -> Any:
    """Fit a learning curve with NUTS.

    Parameters
    ----------
    n, y : array-like
        Sizes and metric values; repeated ``n`` are replicate runs.
    data : CurveData, optional
        Instead of ``n``/``y``/bounds.
    family : str
        A registered family name (see ``curvecast.families.REGISTRY``) or
        ``"auto"`` to average over several families.
    priors : dict or path to a TOML file, optional
        Per-family, per-parameter overrides: ``{"pow3": {"alpha": Prior(...)}}``.
    seed : int
        Seeds NUTS; the same seed gives the same numbers.

    Returns
    -------
    CurveFit (or AveragedFit for ``family="auto"``).
    """
    from curvecast import engine as eng
    from curvecast.model import check_family_fits, known_parameters, merged_priors

    if data is None:
        if n is None or y is None:
            raise CurvecastError("pass n and y, or data=CurveData(...)")
        data = CurveData(n, y, increasing=increasing, metric_min=metric_min, metric_max=metric_max, name=name)
    if isinstance(priors, str):
        from curvecast.priors import load_prior_file

        priors = load_prior_file(priors, known_parameters())
    elif priors:
        from curvecast.priors import parse_prior_table

        table = {f: {p: (v.to_dict() if isinstance(v, Prior) else v) for p, v in ps.items()} for f, ps in priors.items()}
        priors = parse_prior_table(table, known_parameters())
    for label, v, lo in (("draws", draws, 10), ("tune", tune, 0), ("chains", chains, 1)):
        if int(v) < lo:
            raise CurvecastError(f"{label} must be at least {lo}, got {v}")
    if not 0.5 <= target_accept < 1:
        raise CurvecastError(f"target_accept must lie in [0.5, 1), got {target_accept}")
    if family == "auto":
        from curvecast.averaging import fit_auto

        return fit_auto(data, priors=priors, draws=draws, tune=tune, chains=chains, seed=seed,
                        target_accept=target_accept, engine=engine)
    fam = get_family(family)
    check_family_fits(fam, data)
    merged = merged_priors(fam, priors)
    eng_name = engine or eng.default_engine()
    idata = eng.sample(fam, data, merged, draws=int(draws), tune=int(tune), chains=int(chains), seed=int(seed),
                       target_accept=float(target_accept), engine=eng_name)
    free = [*fam.params, "sigma"]
    diag = diagnose(idata, free)
    params = {k: np.asarray(idata.posterior[k]).reshape(-1) for k in free}
    settings = {"draws": int(draws), "tune": int(tune), "chains": int(chains), "seed": int(seed),
                "target_accept": float(target_accept), "engine": eng_name}
    result = CurveFit(fam, data, merged, params, diag, settings, idata=idata)
    warn_if_unhealthy(diag, f"{fam.name} fit of {data.name!r}")
    return result
