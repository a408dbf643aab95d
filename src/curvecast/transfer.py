"""Priors across projects: turn a fitted posterior into a prior, compare prior sets.

``derive`` fits a distribution to each parameter's posterior marginal in the
parameter's natural support and widens it by a factor ``widen`` (default 2,
see :data:`DEFAULT_WIDEN`). The level of the curve (``y_ref`` and the asymptote
``room``) is project-specific, so by default only the rate and shape parameters
are transferred; ``keep_level=True`` transfers them too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError, DiagnosticsWarning
from curvecast.families import get_family
from curvecast.formats import size
from curvecast.inference import SINGLE_FAMILY, fit
from curvecast.outputs import FIGURE_SUFFIXES, check_output, save_figure
from curvecast.prior_sets import merged_priors
from curvecast.priors import Prior, PriorSet
from curvecast.results import CurveFit, Forecast

#: Widening factor for derived priors (on the log / logit / linear scale). A new
#: project differs from an old one by more than the old posterior's width: the
#: four seed curves (2 detectors x 2 data sets) have fitted pow3 exponents whose
#: spread across curves is about twice a single curve's posterior sd.
DEFAULT_WIDEN = 2.0
LEVEL_PARAMS = ("y_ref", "room")


def _fit_marginal(draws: np.ndarray, support: str, widen: float) -> Prior:
    d = np.asarray(draws, float)
    if support == "positive":
        lg = np.log(d)
        return Prior("LogNormal", mu=round(float(lg.mean()), 4), sigma=round(float(lg.std() * widen), 4))
    if support == "unit":
        m, v = float(d.mean()), float(d.var()) * widen**2
        v = min(v, m * (1 - m) * 0.95)
        conc = m * (1 - m) / v - 1
        return Prior("Beta", alpha=round(max(m * conc, 0.05), 4), beta=round(max((1 - m) * conc, 0.05), 4))
    return Prior("Normal", mu=round(float(d.mean()), 5), sigma=round(float(d.std() * widen), 5))


#: the widest --widen accepted: wider turns the posterior into no information (and overflows)
WIDEN_MAX = 100.0


def check_widen(widen: float) -> None:
    if not (np.isfinite(widen) and 1 <= widen <= WIDEN_MAX):
        raise CurvecastError(f"--widen must lie in [1, {WIDEN_MAX:g}] (1 = the posterior as is), got {widen}")


def derive(result: Forecast, widen: float = DEFAULT_WIDEN, keep_level: bool = False) -> PriorSet:
    """A prior set ``{family: {param: Prior}}`` from a fitted posterior (every component of an average)."""
    check_widen(widen)
    if result.diagnostics.problems:
        import warnings

        warnings.warn(
            f"deriving priors from a fit whose diagnostics failed ({'; '.join(result.diagnostics.problems)}); "
            "the derived prior inherits its sampling error",
            DiagnosticsWarning,
            stacklevel=2,
        )
    out: PriorSet = {}
    for c in result.components:
        fam = c.family
        priors = {}
        for pname, support in fam.params.items():
            if pname in LEVEL_PARAMS and not keep_level:
                continue
            priors[pname] = _fit_marginal(c.params_[pname], support, widen)
        if priors:
            out[fam.name] = priors
    return out


def derive_header(result: Forecast, widen: float, keep_level: bool) -> str:
    kept = "all parameters" if keep_level else "rate and shape only (level parameters y_ref, room keep the defaults)"
    return (
        f"Derived by `curvecast priors derive` from a fit of curve {result.data.name!r}\n"
        f"({result.data.n.size} points, n up to {size(result.data.n_ref)}); posterior marginals widened x{widen:g}.\n"
        f"Transferred: {kept}."
    )


def before_the_data(settings: dict[str, Any]) -> dict[str, Any]:
    """A fit's settings for its prior band: the discrepancy without the misfit F, which measures how the
    family misses the data (the band said "how much is the prior", and a ragged curve widened it)."""
    disc = settings.get("discrepancy")
    return settings | {"discrepancy": disc | {"misfit": 0.0}} if disc else dict(settings)


def prior_draws(data: CurveData, priors: dict[str, Prior], size: int, seed: int) -> dict[str, np.ndarray]:
    """Draws of every parameter from its (resolved) prior, via PyMC."""
    import pymc as pm

    syms = data.symbols()
    out = {}
    for i, (pname, prior) in enumerate(priors.items()):
        dist = prior.to_dist(prior.resolve(syms))
        out[pname] = np.asarray(pm.draw(dist, draws=size, random_seed=np.random.default_rng([seed, i])), float).reshape(
            -1
        )
    return out


def compare(
    data: CurveData,
    prior_sets: dict[str, PriorSet | None],
    *,
    family: str | None,
    target: float | None,
    at: float,
    prob: float,
    fit_kwargs: dict[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, tuple[Any, Any]]]:
    """For each prior set: prior and posterior bands at ``at``, P(target at n) and n needed, with the
    posterior's diagnostics and the notes on the prior set (e.g. a section the family does not use).

    Priors belong to one family: ``family`` (default: the default mixture's first family).
    """
    family = family or SINGLE_FAMILY
    fam = get_family(family)
    fam.check_data(data)
    rows, fits = [], {}
    for label, pset in prior_sets.items():
        merged = merged_priors(fam, pset)
        post = fit(data=data, family=family, priors=pset, **fit_kwargs)
        assert isinstance(post, CurveFit)  # one family, not "auto"
        draws = prior_draws(data, merged, size=post.n_draws, seed=int(fit_kwargs.get("seed", 0)))
        if "disc_z" in post.params_:
            draws["disc_z"] = post.params_["disc_z"]
        prior_fit = CurveFit(fam, data, merged, draws, post.diagnostics, before_the_data(post.settings))
        pb, qb = prior_fit.predict([at]).iloc[0], post.predict([at]).iloc[0]
        row = {
            "priors": label,
            "at": at,
            "prior_median": pb["median"],
            "prior_lower": pb["lower"],
            "prior_upper": pb["upper"],
            "post_median": qb["median"],
            "post_lower": qb["lower"],
            "post_upper": qb["upper"],
            "diagnostics": post.diagnostics.to_dict(),
            "notes": list(post.data.notes[len(data.notes) :]),  # what the fit said of this prior set
        }
        if target is not None:
            row["p_target_prior"] = float(prior_fit.prob(target, [at])[0])
            row["p_target"] = float(post.prob(target, [at])[0])
            row["n_needed"] = post.need(target, prob=prob)["n_needed"]
        rows.append(row)
        fits[label] = (prior_fit, post)
    return rows, fits


def plot_compare(fits: dict[str, tuple[Any, Any]], path: Any, target: float | None, max_n: float | None) -> None:
    """One panel per prior set: prior band (grey) and posterior band (blue)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from curvecast.plotting import n_grid

    check_output(path, suffixes=FIGURE_SUFFIXES)
    k = len(fits)
    fig, axes = plt.subplots(1, k, figsize=(4.5 * k, 4), squeeze=False, sharey=True)
    for ax, (label, (pr, po)) in zip(axes[0], fits.items(), strict=True):
        n = n_grid(po, max_n)
        for f, color, name in ((pr, "0.6", "prior"), (po, "tab:blue", "posterior")):
            q = np.quantile(f.latent(n), [0.05, 0.5, 0.95], axis=0)
            ax.fill_between(n, q[0], q[2], color=color, alpha=0.3, label=f"90 % {name}")
            ax.plot(n, q[1], color=color, lw=1.5)
        ax.scatter(po.data.n, po.data.y, color="black", s=14, zorder=5)
        if target is not None:
            ax.axhline(target, color="tab:red", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("n")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
