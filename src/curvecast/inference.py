"""Inference: sample curve families with NUTS and return result objects.

* :func:`fit`: one curve, one family (or ``family="auto"``: several, averaged);
* :func:`fit_auto`: the average over :data:`AUTO_FAMILIES` with stacking weights;
* :func:`fit_pooled`: several curves jointly, with partial pooling of rate and shape.

Every path builds its PyMC model through :class:`~curvecast.model.ModelSpec` and
samples it with an engine from :mod:`curvecast.engines`, so priors, replicate
noise and the compiled-model cache work the same way everywhere.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.checks import leave_last_out, model_checks
from curvecast.data import CurveData
from curvecast.diagnostics import Diagnostics
from curvecast.discrepancy import NONE as NO_DISCREPANCY
from curvecast.discrepancy import Discrepancy, misfit
from curvecast.engines import get_engine
from curvecast.errors import CurvecastError, DiagnosticsWarning
from curvecast.families import Family, get_family
from curvecast.model import ModelSpec, pooled_params
from curvecast.prior_sets import check_level_prior, known_parameters, merged_priors, prior_notes, resolved_problems
from curvecast.priors import Prior, PriorSet, load_prior_file, parse_prior_table
from curvecast.results import AveragedFit, CurveFit, Forecast, PooledFit

#: the calibrated default discrepancy: misfit-driven, sub-linear in log-distance, with a room floor
#: for curves of few sizes (empirical Bayes across the dev corpora, see benchmarks/RESULTS.md)
DEFAULT_DISCREPANCY = Discrepancy(kappa=0.2, q=2.0, lam=2.84, power=0.49, nu=2.0, ell=3.0, w_room=0.5)
#: a fit with divergent transitions is sampled again with this smaller step-size target
RETRY_TARGET_ACCEPT = 0.99
#: the default model: an equal-weight mixture of these families (see benchmarks/RESULTS.md)
DEFAULT_FAMILY = "pow3+pow4"
#: where one family is needed (pooled fits, prior comparisons): the default mixture's first
SINGLE_FAMILY = DEFAULT_FAMILY.split("+")[0]
#: chains and draws (and tuning steps) per chain of the leave-last-out check's refits
LLO_CHAINS, LLO_DRAWS = 2, 250
#: the fewest draws (and tuning steps) per chain a mixture gives one family
MIN_SHARE = 100
#: a mixture's second and later families are fitted from this many distinct sizes on
MIXTURE_MIN_SIZES = 6
#: the families averaged by ``auto`` (chosen by backtest, see benchmarks/RESULTS.md)
AUTO_FAMILIES: tuple[str, ...] = ("pow3", "pow4", "mmf")


def diagnose(idata: Any, var_names: list[str]) -> Diagnostics:
    """Divergences, max r-hat and min bulk/tail ESS over the sampled parameters."""
    import arviz as az

    post = idata.posterior[var_names]
    ess_b, ess_t = az.ess(post, method="bulk"), az.ess(post, method="tail")
    rhat = az.rhat(post) if post.sizes["chain"] > 1 else None  # r-hat compares chains: none with one
    return Diagnostics(
        divergences=int(np.asarray(idata.sample_stats["diverging"]).sum()),
        rhat_max=float("nan") if rhat is None else float(max(float(rhat[v].max()) for v in var_names)),
        ess_bulk_min=float(min(float(ess_b[v].min()) for v in var_names)),
        ess_tail_min=float(min(float(ess_t[v].min()) for v in var_names)),
    )


def warn_if_unhealthy(diag: Diagnostics, what: str) -> None:
    if diag.problems:
        warnings.warn(f"{what}: {diag.warning()}", DiagnosticsWarning, stacklevel=3)


def resolve_priors(priors: PriorSet | str | Path | None) -> PriorSet | None:
    """A validated prior set from a TOML path or a ``{family: {param: Prior or dict}}`` table."""
    if priors is None or (isinstance(priors, dict) and not priors):
        return None
    if isinstance(priors, str | Path):
        return load_prior_file(priors, known_parameters())
    table = {f: {p: (v.to_dict() if isinstance(v, Prior) else v) for p, v in ps.items()} for f, ps in priors.items()}
    return parse_prior_table(table, known_parameters())


def _check_sampler(draws: int, tune: int, chains: int, target_accept: float, seed: int) -> None:
    for label, v, lo in (("draws", draws, 10), ("tune", tune, 0), ("chains", chains, 1)):
        if int(v) < lo:
            raise CurvecastError(f"{label} must be at least {lo}, got {v}")
    if not 0.5 <= target_accept < 1:
        raise CurvecastError(f"target_accept must lie in [0.5, 1), got {target_accept}")
    if not 0 <= int(seed) < 2**63:
        raise CurvecastError(f"seed must be an integer in [0, 2**63), got {seed}")


def _sample(
    spec: ModelSpec, *, engine: str | None, cores: int | None, retry_divergent: bool, **kw: Any
) -> tuple[Any, Diagnostics, float, str]:
    """Sample ``spec``; a fit with divergences is sampled again at ``RETRY_TARGET_ACCEPT``."""
    eng = get_engine(engine)
    cores = int(cores) if cores else min(int(kw["chains"]), os.cpu_count() or 1)
    accept = float(kw.pop("target_accept"))

    problems = [q for c in spec.curves for q in resolved_problems(spec.priors, c.symbols(), spec.family.name)]
    if problems:
        raise CurvecastError("invalid priors:\n  - " + "\n  - ".join(dict.fromkeys(problems)))

    def run(target_accept: float) -> Any:
        try:
            idata = eng.sample(spec, cores=cores, target_accept=target_accept, **kw)
        except RuntimeError as e:
            if "initiali" not in str(e).lower():
                raise
            raise CurvecastError(
                f"the sampler found no valid starting point for {spec.family.name} ({str(e)[:80]}); "
                "check the priors (--priors) and the metric's bounds"
            ) from None
        post = idata.posterior
        if post.sizes["draw"] < kw["draws"] or post.sizes["chain"] < kw["chains"]:
            raise KeyboardInterrupt  # the sampler stopped early (Ctrl-C): never return a partial posterior
        if any(not np.all(np.isfinite(post[v].values)) for v in spec.free_vars):
            raise CurvecastError(f"the sampler returned NaN or inf draws for {spec.family.name}; refit")
        return idata

    idata = run(accept)
    diag = diagnose(idata, spec.free_vars)
    if retry_divergent and diag.divergences > 0 and accept < RETRY_TARGET_ACCEPT:
        first = {"target_accept": accept, "divergences": diag.divergences}
        idata = run(RETRY_TARGET_ACCEPT)
        accept = RETRY_TARGET_ACCEPT
        diag = replace(diagnose(idata, spec.free_vars), retried=first)
    return idata, diag, accept, eng.name


def _draws(posterior: Any, names: list[str], **sel: Any) -> dict[str, np.ndarray]:
    """Flattened (chain-major) draws of ``names``, optionally ``sel``-ected along a dim."""
    return {k: np.asarray(posterior[k].sel(**sel) if sel else posterior[k]).reshape(-1) for k in names}


def _discrepancy(discrepancy: Discrepancy | bool) -> Discrepancy:
    """True: the calibrated default; False: none; or the given term."""
    return DEFAULT_DISCREPANCY if discrepancy is True else (discrepancy or NO_DISCREPANCY)


def fit(
    n: Any = None,
    y: Any = None,
    *,
    data: CurveData | None = None,
    family: str = DEFAULT_FAMILY,
    priors: PriorSet | str | Path | None = None,
    increasing: bool = True,
    metric_min: float | None = None,
    metric_max: float | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.95,
    engine: str | None = None,
    cores: int | None = None,
    name: str = "curve",
    discrepancy: Discrepancy | bool = True,
    retry_divergent: bool = True,
    check: bool = True,
) -> Forecast:
    """Fit a learning curve with NUTS.

    Parameters
    ----------
    n, y : array-like
        Sizes and metric values; repeated ``n`` are replicate runs.
    data : CurveData, optional
        Instead of ``n``/``y``/bounds.
    family : str
        A registered family name (see ``curvecast.families``); several joined by ``+``
        for an equal-weight mixture (the default, ``"pow3+pow4"``, see :func:`fit_mixture`);
        or ``"auto"`` to average over :data:`AUTO_FAMILIES` with stacking weights.
    priors : dict or path to a TOML file, optional
        Per-family, per-parameter overrides: ``{"pow3": {"alpha": Prior(...)}}``.
    seed : int
        Seeds NUTS and the discrepancy draws; the same seed gives the same numbers.
    engine : str, optional
        A sampler back end from ``curvecast.engines.ENGINES`` (default: nutpie).
    cores : int, optional
        Chains run in parallel on this many cores (default: all, up to ``chains``).
    discrepancy : Discrepancy or bool
        Model discrepancy beyond the data (see ``curvecast.discrepancy``);
        True uses the calibrated default, False switches it off.
    retry_divergent : bool
        If the fit has divergent transitions, sample again (same seed) with
        ``target_accept`` = ``RETRY_TARGET_ACCEPT``: smaller steps get through the
        narrow ridges of flat or dipping curves. The second fit is kept, and
        ``diagnostics.retried`` records the first try's divergences.
    check : bool
        Run the leave-last-out check (``curvecast.checks.leave_last_out``): two quick refits of
        the first family (:data:`LLO_CHAINS` chains x :data:`LLO_DRAWS` draws) without the last
        size and without the last third of log n; a contradiction is reported in
        ``diagnostics.checks``.

    Returns
    -------
    CurveFit, or AveragedFit for a mixture or ``family="auto"``.
    """
    if data is None:
        if n is None or y is None:
            raise CurvecastError("pass n and y, or data=CurveData(...)")
        data = CurveData(n, y, increasing=increasing, metric_min=metric_min, metric_max=metric_max, name=name)
    else:
        given = {
            "n": n is not None,
            "y": y is not None,
            "increasing": increasing is not True,
            "metric_min": metric_min is not None,
            "metric_max": metric_max is not None,
            "name": name != "curve",
        }
        if any(given.values()):  # the CurveData says these: never drop them silently
            raise CurvecastError(
                f"data=CurveData(...) already holds the curve; drop {', '.join(k for k, v in given.items() if v)} "
                "(or pass them to CurveData)"
            )
    pset = resolve_priors(priors)
    _check_sampler(draws, tune, chains, target_accept, seed)
    kw: dict[str, Any] = {
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
        "seed": int(seed),
        "target_accept": float(target_accept),
        "engine": engine,
        "cores": cores,
        "discrepancy": discrepancy,
        "retry_divergent": retry_divergent,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiagnosticsWarning)  # reported once below, checks included
        result = _fit_family(data, family, pset, **kw)
        if check:
            quick = kw | {"draws": LLO_DRAWS, "tune": LLO_DRAWS, "chains": LLO_CHAINS, "seed": int(seed) + 1}
            quick["retry_divergent"] = False
            first_family = result.components[0].family
            found = leave_last_out(result, lambda d: _fit_one(d, first_family, pset, **quick), seed=int(seed))
            if found:
                first = result.components[0]  # a mixture's diagnostics are rebuilt from it on load
                first.diagnostics = replace(first.diagnostics, checks=(*first.diagnostics.checks, *found))
                if result is not first:
                    result.diagnostics = replace(result.diagnostics, checks=(*result.diagnostics.checks, *found))
    noted = data.with_notes(*prior_notes(pset, [c.family.name for c in result.components], result.label))
    for f in (result, *result.components):
        f.data = noted
    warn_if_unhealthy(result.diagnostics, f"{result.label} fit of {data.name!r}")
    return result


def _fit_family(data: CurveData, family: str, priors: PriorSet | None, **kw: Any) -> Forecast:
    """One family, a ``+``-joined mixture, or ``auto``."""
    if family == "auto":
        return fit_auto(data, priors=priors, **kw)
    if "+" in family:
        return fit_mixture(data, tuple(family.split("+")), priors=priors, **kw)
    return _fit_one(data, get_family(family), priors, **kw)


def _fit_one(
    data: CurveData,
    fam: type[Family],
    priors: PriorSet | None,
    *,
    discrepancy: Discrepancy | bool,
    engine: str | None,
    cores: int | None,
    retry_divergent: bool,
    **sampler: Any,
) -> CurveFit:
    fam.check_data(data)
    check_level_prior(fam, priors, data)
    merged = merged_priors(fam, priors)
    spec = ModelSpec(fam, (data,), merged)
    idata, diag, accept, eng_name = _sample(
        spec, engine=engine, cores=cores, retry_divergent=retry_divergent, **sampler
    )
    params = _draws(idata.posterior, spec.param_names)
    disc = _discrepancy(discrepancy)
    if disc.active:
        params["disc_z"] = disc.draw(params["sigma"].size, int(sampler["seed"]))
    settings = {k: sampler[k] for k in ("draws", "tune", "chains", "seed")}
    settings |= {"target_accept": accept, "engine": eng_name, "discrepancy": disc.to_dict()}
    result = CurveFit(fam, data, merged, params, diag, settings, idata=idata)
    _add_evidence(result)
    result.diagnostics = replace(diag, checks=tuple(model_checks(result)))
    return result


def _add_evidence(f: CurveFit) -> None:
    """Record the curve's evidence in its discrepancy term: the misfit F near n_ref and the sizes m."""
    disc = f.discrepancy
    if disc.active:
        median = np.median(f.latent(f.data.n), axis=0)  # the shift is zero inside the data
        disc = replace(disc, misfit=misfit(f.data.n, f.data.y, median), points=int(np.unique(f.data.n).size))
        f.settings["discrepancy"] = disc.to_dict()


def stacking_weights(fits: list[CurveFit]) -> np.ndarray:
    """Stacking weights from PSIS-LOO over the observed points."""
    import arviz as az

    idatas = {}
    for i, f in enumerate(fits):
        chains = int(f.settings.get("chains", 1)) or 1
        ll = f.log_likelihood()
        idatas[str(i)] = az.from_dict(
            posterior={"sigma": f.params_["sigma"].reshape(chains, -1)},
            log_likelihood={"y": ll.reshape(chains, -1, ll.shape[-1])},
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = az.compare(idatas, method="stacking", ic="loo")
    w = np.clip(np.array([float(cmp.loc[str(i), "weight"]) for i in range(len(fits))]), 0, None)
    return w / w.sum() if w.sum() > 0 else np.full(len(fits), 1 / len(fits))


def fit_auto(
    data: CurveData, *, families: tuple[str, ...] | None = None, priors: PriorSet | None = None, **kw: Any
) -> AveragedFit:
    """Fit every family in ``families`` (default :data:`AUTO_FAMILIES`) and average them with stacking weights."""
    fits = []
    for name in families or AUTO_FAMILIES:
        fam = get_family(name)
        try:
            fam.check_data(data)
        except CurvecastError:
            continue  # e.g. a family that needs a bound this metric lacks
        fits.append(_fit_one(data, fam, priors, **kw))
    if not fits:
        raise CurvecastError("no family in the auto set can describe this metric; pass --family and bounds")
    return AveragedFit(fits, stacking_weights(fits) if len(fits) > 1 else np.ones(1))


def fit_mixture(data: CurveData, families: tuple[str, ...], *, priors: PriorSet | None = None, **kw: Any) -> Forecast:
    """An equal-weight mixture of ``families`` (the default ``pow3+pow4``), draws pooled.

    Each of the k families fitted is sampled with ``draws / k`` draws and ``tune / k`` tuning
    steps per chain (at least :data:`MIN_SHARE`, or all if fewer were asked), so the mixture
    holds as many draws as a one-family fit and costs about as much. The first family is
    always fitted; the others only from :data:`MIXTURE_MIN_SIZES` distinct sizes on, since
    their extra shape parameters are not identified by fewer points. With a single
    component left, that component's fit is returned.
    """
    fams = [get_family(name) for name in families]
    if len({f.name for f in fams}) < len(fams):
        raise CurvecastError(f"the mixture {'+'.join(families)!r} names a family twice")
    sizes = np.unique(data.n).size
    fams = fams[:1] + (fams[1:] if sizes >= MIXTURE_MIN_SIZES else [])
    k = len(fams)  # the families share the draws and tuning steps: a mixture costs about one fit
    share = kw | {key: max(kw[key] // k, min(kw[key], MIN_SHARE)) for key in ("draws", "tune")}
    fits = [_fit_one(data, fam, priors, **share) for fam in fams]
    if len(fits) == 1:
        return fits[0]
    return AveragedFit(fits, np.full(len(fits), 1 / len(fits)), method="fixed")


def fit_pooled(
    curves: list[CurveData],
    *,
    family: str = SINGLE_FAMILY,
    priors: PriorSet | str | Path | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.95,
    engine: str | None = None,
    cores: int | None = None,
    discrepancy: Discrepancy | bool = True,
    retry_divergent: bool = True,
) -> PooledFit:
    """Fit several curves jointly; their rate and shape parameters share a hierarchical prior.

    Every curve keeps its own level (``y_ref``) and noise; each pooled parameter
    ``p`` is ``log p_c = mu_p + tau_p * z_c`` (``logit`` for fractions such as
    ``room``), with ``mu_p`` centred on ``p``'s prior (the defaults, or ``priors``).
    Curves with few points borrow strength from the others: per-class AP curves,
    several backbones on one data set, or projects.
    """
    if len(curves) < 2:
        raise CurvecastError("pooling needs at least two curves in the file")
    names = [c.name for c in curves]
    if len(set(names)) < len(names):
        raise CurvecastError("pooled curves need distinct names")
    if len({c.increasing for c in curves}) > 1:
        raise CurvecastError("pooled curves must share the metric's direction")
    fam = get_family(family)
    for c in curves:
        fam.check_data(c)
    _check_sampler(draws, tune, chains, target_accept, seed)
    pset = resolve_priors(priors)
    for c in curves:
        check_level_prior(fam, pset, c)
    merged, notes = merged_priors(fam, pset), prior_notes(pset, [fam.name], fam.name)
    spec = ModelSpec(fam, tuple(curves), merged, pooled=pooled_params(fam))
    kw = {"draws": int(draws), "tune": int(tune), "chains": int(chains), "seed": int(seed)}
    idata, diag, accept, eng_name = _sample(
        spec, engine=engine, cores=cores, retry_divergent=retry_divergent, target_accept=target_accept, **kw
    )
    disc = _discrepancy(discrepancy)
    settings = kw | {"target_accept": accept, "engine": eng_name, "discrepancy": disc.to_dict(), "pooled": True}
    post = idata.posterior
    fits = {}
    for i, c in enumerate(curves):
        params = _draws(post, spec.param_names, curve=c.name)
        if disc.active:
            params["disc_z"] = disc.draw(params["sigma"].size, int(seed) + i)
        data = c.with_notes(*notes)
        fits[c.name] = CurveFit(fam, data, merged, params, diag, dict(settings), idata=_curve_slice(idata, c.name))
        _add_evidence(fits[c.name])
    hyper = {str(v): np.asarray(post[v]).reshape(-1) for v in post.data_vars if str(v).startswith(("mu_", "tau_"))}
    warn_if_unhealthy(diag, f"pooled {fam.name} fit of {len(curves)} curves")
    return PooledFit(fam, fits, hyper, diag, settings, idata=idata)


def _curve_slice(idata: Any, name: str) -> Any:
    """One curve's view of a pooled posterior: its own parameters, the shared hyper-parameters."""
    import arviz as az

    groups = {"posterior": idata.posterior.sel(curve=name)}
    if "sample_stats" in idata.groups():
        groups["sample_stats"] = idata.sample_stats
    return az.InferenceData(**groups)
