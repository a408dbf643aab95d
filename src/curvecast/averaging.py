"""Model averaging over curve families (``family="auto"``).

Each family in :data:`AUTO_FAMILIES` is fitted with NUTS; the posteriors are
combined into one predictive distribution with stacking weights computed from
PSIS-LOO (ArviZ). Every query works on the mixture.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.forecast import Forecast

#: the families averaged by ``auto`` (chosen by backtest, see benchmarks/RESULTS.md)
AUTO_FAMILIES: tuple[str, ...] = ("pow3", "pow4", "mmf")


def pointwise_loglik(fit: Any) -> np.ndarray:
    """log N(y_i | f(n_i), sigma) for every draw and observation: (draws, obs)."""
    return Forecast.pointwise_logpdf(fit, fit.data.n, fit.data.y)


def stacking_weights(fits: list[Any]) -> np.ndarray:
    """Stacking weights from PSIS-LOO over the observed points."""
    import arviz as az

    idatas = {}
    for i, f in enumerate(fits):
        ll = pointwise_loglik(f)
        chains = int(f.settings.get("chains", 1)) or 1
        ll = ll.reshape(chains, -1, ll.shape[-1])
        idatas[str(i)] = az.from_dict(
            posterior={"sigma": f.sigma_draws().reshape(chains, -1)},
            log_likelihood={"y": ll},
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = az.compare(idatas, method="stacking", ic="loo")
    w = np.array([float(cmp.loc[str(i), "weight"]) for i in range(len(fits))])
    w = np.clip(w, 0, None)
    return w / w.sum() if w.sum() > 0 else np.full(len(fits), 1 / len(fits))


_PER_FAMILY_KEYS = ("divergences", "rhat_max", "ess_bulk_min", "retried")


class AveragedFit(Forecast):
    """A weighted mixture of :class:`~curvecast.fitting.CurveFit` posteriors."""

    def __init__(
        self,
        components: list[Any],
        weights: np.ndarray,
        extra_meta: dict[str, Any] | None = None,
        n_draws: int | None = None,
    ) -> None:
        if not components:
            raise CurvecastError("model averaging needs at least one fitted family")
        self.components = components
        self.weights = np.asarray(weights, float)
        self.data: CurveData = components[0].data
        self.bounded = all(c.bounded for c in components if c in self._active())
        self.extra_meta = extra_meta or {}
        total = n_draws or components[0].n_draws
        counts = np.floor(self.weights * total).astype(int)
        counts[np.argmax(self.weights)] += total - counts.sum()
        # evenly spaced draws from each component, so every chain contributes
        self._index = [
            np.linspace(0, c.n_draws - 1, k).round().astype(int) if k > 0 else np.zeros(0, int)
            for c, k in zip(components, counts, strict=True)
        ]
        self.diagnostics = self._diagnostics()
        self.settings = components[0].settings

    def _active(self) -> list[Any]:
        return [c for c, w in zip(self.components, self.weights, strict=True) if w > 0.01]

    def _diagnostics(self) -> dict[str, Any]:
        act = self._active()
        d = {
            "divergences": int(sum(c.diagnostics["divergences"] for c in act)),
            "rhat_max": float(max(c.diagnostics["rhat_max"] for c in act)),
            "ess_bulk_min": float(min(c.diagnostics["ess_bulk_min"] for c in act)),
            "ess_tail_min": float(min(c.diagnostics["ess_tail_min"] for c in act)),
            "per_family": {
                c.family.name: {k: v for k, v in c.diagnostics.items() if k in _PER_FAMILY_KEYS}
                for c in self.components
            },
        }
        probs = [f"{c.family.name}: {p}" for c in act for p in c.diagnostics.get("problems", [])]
        d["problems"] = probs
        d["ok"] = not probs
        return d

    @property
    def label(self) -> str:
        return (
            "auto("
            + ", ".join(
                f"{c.family.name} {w:.2f}" for c, w in zip(self.components, self.weights, strict=True) if w > 0.005
            )
            + ")"
        )

    def weights_table(self) -> dict[str, float]:
        return {c.family.name: float(w) for c, w in zip(self.components, self.weights, strict=True)}

    def _stack(self, per_component: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([a[idx] for a, idx in zip(per_component, self._index, strict=True)], axis=0)

    def latent(self, n: Any) -> np.ndarray:
        return self._stack([c.latent(n) for c in self.components])

    def sigma_draws(self) -> np.ndarray:
        return self._stack([c.sigma_draws() for c in self.components])

    def sigma_at(self, n: Any) -> np.ndarray:
        return self._stack([c.sigma_at(n) for c in self.components])

    def pointwise_logpdf(self, n: Any, y: Any) -> np.ndarray:
        return self._stack([c.pointwise_logpdf(n, y) for c in self.components])

    def n_star(self, target: float) -> np.ndarray:
        return self._stack([c.n_star(target) for c in self.components])

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            f"weight[{k}]": {"median": v, "q5": v, "q95": v} for k, v in self.weights_table().items()
        }
        for c in self.components:
            for k, v in c.summary().items():
                out[f"{c.family.name}.{k}"] = v
        return out


def fit_auto(data: CurveData, *, families: tuple[str, ...] | None = None, **kw: Any) -> AveragedFit:
    """Fit every family in ``families`` and average them with stacking weights."""
    from curvecast.families import get_family
    from curvecast.fitting import fit

    fits = []
    for name in families or AUTO_FAMILIES:
        try:
            get_family(name).check_data(data)
        except CurvecastError:
            continue  # e.g. a family that needs a bound this metric lacks
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(fit(data=data, family=name, **kw))
    if not fits:
        raise CurvecastError("no family in the auto set can describe this metric; pass --family and bounds")
    weights = stacking_weights(fits) if len(fits) > 1 else np.ones(1)
    avg = AveragedFit(fits, weights)
    from curvecast.fitting import warn_if_unhealthy

    warn_if_unhealthy(avg.diagnostics, f"auto fit of {data.name!r}")
    return avg
