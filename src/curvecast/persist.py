"""Save fits to netCDF and load them back without importing PyMC.

A saved fit is a standard ArviZ netCDF file (format 2):

* ``posterior`` (chain x draw, the model's own variable names), ``sample_stats``
  and ``observed_data`` (``y`` with the sizes ``n`` as a coordinate), so
  ``az.from_netcdf``, ``az.summary``, ``az.plot_trace`` and ``az.plot_rank``
  work on it as on a fresh fit;
* curvecast's extras in one more group, ``curvecast``: the model-discrepancy
  draws ``disc_z`` (chain x draw) and, as JSON in its ``curvecast`` attribute,
  the family, priors, data, metric direction and bounds, sampler settings,
  diagnostics, package version and a SHA-256 of each component's draws, which
  ``load`` checks (a file changed or damaged after it was saved is refused).

An averaged fit (``family="auto"``) keeps each component as the same set of
groups under ``components/<family>/`` (``components/pow3/posterior``, ...),
one ArviZ InferenceData per family, the form ``az.compare`` takes; its
``observed_data`` and ``curvecast`` groups are at the top. ``load`` also reads
format 1, written by curvecast 0.1.0 (tests/data keeps such files).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.diagnostics import Diagnostics
from curvecast.errors import CurvecastError
from curvecast.families import get_family
from curvecast.outputs import FIT_SUFFIXES, atomic_write, check_output
from curvecast.priors import Prior
from curvecast.results import AveragedFit, CurveFit, Forecast

FORMAT = 2
READS = (1, 2)


def _data_meta(d: CurveData) -> dict[str, Any]:
    keys = ("increasing", "metric_min", "metric_max", "name", "x_unit", "y_unit", "notes")
    return {"n": d.n.tolist(), "y": d.y.tolist(), **{k: getattr(d, k) for k in keys}}


def _digest(fam: Any, params: dict[str, np.ndarray]) -> str:
    """SHA-256 of the draws the answers use (each parameter's values sorted, so the order of chains
    and draws does not matter): written with a fit, checked when it is loaded."""
    h = hashlib.sha256()
    for k in (*fam.params, "sigma", "gamma", "disc_z"):
        if k in params:
            h.update(k.encode() + np.sort(np.asarray(params[k], "<f8").reshape(-1)).tobytes())
    return h.hexdigest()


def _component_meta(c: CurveFit, prefix: str) -> dict[str, Any]:
    return {
        "family": c.family.name,
        "group": prefix,
        "priors": {k: p.to_dict() for k, p in c.priors.items()},
        "settings": c.settings,
        "diagnostics": c.diagnostics.to_dict(),
        "draws_sha256": _digest(c.family, c.params_),
    }


def _chains(c: CurveFit) -> int:
    chains = int(c.settings.get("chains", 1)) or 1
    return chains if c.n_draws % chains == 0 else 1


def _posterior_from_draws(params: dict[str, np.ndarray], chains: int) -> Any:
    """A posterior group rebuilt from flat (chain-major) draws, for fits without the sampler's record."""
    import xarray as xr

    return xr.Dataset({k: (("chain", "draw"), v.reshape(chains, -1)) for k, v in params.items() if k != "disc_z"})


def _component_groups(c: CurveFit) -> dict[str, Any]:
    """posterior, sample_stats and the curvecast extras of one single-family fit."""
    import xarray as xr

    chains = _chains(c)
    idata = c.idata_
    if idata is not None and "posterior" in idata.groups():
        post = idata.posterior
    else:  # draws without the sampler's record (e.g. built from arrays): chains from the settings
        post = _posterior_from_draws(c.params_, chains)
    groups = {"posterior": post}
    if idata is not None and "sample_stats" in idata.groups():
        groups["sample_stats"] = idata.sample_stats
    extras = {}
    if "disc_z" in c.params_:
        extras["disc_z"] = (("chain", "draw"), c.params_["disc_z"].reshape(post.sizes["chain"], -1))
    groups["curvecast"] = xr.Dataset(extras)
    return groups


def _check_draws(params: dict[str, np.ndarray], what: str) -> None:
    bad = [k for k, v in params.items() if v.size == 0 or not np.all(np.isfinite(v))]
    if bad:
        raise CurvecastError(
            f"{what}: the posterior of {', '.join(bad)} is empty or holds NaN/inf draws "
            "(an interrupted or failed fit?); refit with `curvecast fit DATA -o FIT.nc`"
        )


def save(fit: Forecast, path: str | Path) -> None:
    """Write a CurveFit or AveragedFit to ``path`` atomically (see the module docstring for the layout)."""
    import xarray as xr

    from curvecast import __version__

    if not isinstance(fit, CurveFit | AveragedFit):
        raise CurvecastError(f"cannot save a {type(fit).__name__}; save each of its curve fits")
    path = check_output(path, suffixes=FIT_SUFFIXES)  # never over a data file, never into a directory
    single = isinstance(fit, CurveFit)
    groups: dict[str, Any] = {}
    comps = []
    for c in fit.components:
        _check_draws(c.params_, f"cannot save the {c.family.name} fit of {c.data.name!r}")
        prefix = "" if single else f"components/{c.family.name}/"
        groups |= {prefix + g: ds for g, ds in _component_groups(c).items()}
        comps.append(_component_meta(c, prefix))
    meta = {
        "format": FORMAT,
        "version": __version__,
        "kind": "single" if single else "averaged",
        "data": _data_meta(fit.data),
        "components": comps,
        "weights": [float(w) for w in fit.weights],
        "weighting": fit.method,
        "diagnostics": fit.diagnostics.to_dict(),
    }
    extras = groups.pop("curvecast") if single else xr.Dataset()
    groups["curvecast"] = extras.assign_attrs(curvecast=json.dumps(meta))
    groups["observed_data"] = xr.Dataset({"y": ("obs", fit.data.y)}, coords={"n": ("obs", fit.data.n)})

    def write(tmp: str) -> None:
        mode = "w"
        for name, ds in groups.items():
            ds.to_netcdf(tmp, group=name, mode=mode, engine="h5netcdf")
            mode = "a"

    atomic_write(path, write)


def _open(path: Path, group: str) -> Any:
    import xarray as xr

    with xr.open_dataset(path, group=group, engine="h5netcdf") as ds:
        return ds.load()


def _read_meta(path: Path) -> dict[str, Any]:
    for group in ("curvecast", "posterior"):  # format 2, then format 1
        try:
            meta = json.loads(_open(path, group).attrs["curvecast"])
        except (OSError, KeyError, ValueError, TypeError):
            continue
        if isinstance(meta, dict):
            return meta
    raise CurvecastError(
        f"{str(path)!r} is not a curvecast fit (corrupt or foreign netCDF); refit with `curvecast fit DATA -o FIT.nc`"
    )


def _read_groups(path: Path, groups: dict[str, str]) -> dict[str, Any]:
    """``{name: dataset}`` of the groups ``path`` holds, read now: a fit never reads its file again, so
    a file written over later cannot change a fit already loaded."""
    out = {}
    for name, group in groups.items():
        try:
            out[name] = _open(path, group)
        except OSError:
            continue
    return out


def _lazy_idata(groups: dict[str, Any], chains: int, params: dict[str, np.ndarray]) -> Callable[[], Any]:
    """A builder of the component's InferenceData from its groups (ArviZ is imported only when asked)."""

    def load_idata() -> Any:
        import arviz as az

        out = dict(groups)
        if "posterior" not in out:  # format 1 kept no chains for this component: rebuild from the draws
            out["posterior"] = _posterior_from_draws(params, chains)
        return az.InferenceData(**out)

    return load_idata


def _component_v2(path: Path, data: CurveData, cm: dict[str, Any]) -> CurveFit:
    fam = get_family(cm["family"])
    prefix = cm["group"]
    post = _open(path, prefix + "posterior")
    names = [*fam.params, "sigma", *(["gamma"] if "gamma" in post else [])]
    params = {k: np.asarray(post[k].values).reshape(-1) for k in names}
    extras = _open(path, prefix + "curvecast")
    if "disc_z" in extras:
        params["disc_z"] = np.asarray(extras["disc_z"].values).reshape(-1)
    groups = {"posterior": post} | _read_groups(path, {"sample_stats": prefix + "sample_stats",
                                                       "observed_data": "observed_data"})  # fmt: skip
    return _component(fam, data, cm, params, _lazy_idata(groups, post.sizes["chain"], params))


def _component_v1(path: Path, data: CurveData, cm: dict[str, Any], i: int, single: bool) -> CurveFit:
    arrays = _open(path, "posterior")
    fam = get_family(cm["family"])
    params = {
        str(k).split("__", 1)[1]: np.asarray(arrays[k].values).reshape(-1)
        for k in arrays.data_vars
        if str(k).startswith(f"c{i}__")
    }
    params = {fam.renamed.get(k, k): v for k, v in params.items()}
    groups = {"posterior": "fit_posterior", "sample_stats": "sample_stats"} if single else {}
    chains = int(cm["settings"].get("chains", 1)) or 1
    return _component(fam, data, cm, params, _lazy_idata(_read_groups(path, groups), chains, params))


def _component(fam: Any, data: CurveData, cm: dict[str, Any], params: dict[str, np.ndarray], idata: Any) -> CurveFit:
    priors = {fam.renamed.get(k, k): Prior.from_dict(v) for k, v in cm["priors"].items()}
    missing = [k for k in (*fam.params, "sigma") if k not in params]
    if missing:
        raise CurvecastError(f"the {fam.name} fit lacks draws of {', '.join(missing)}")
    _check_draws(params, f"the {fam.name} fit")
    if "draws_sha256" in cm and cm["draws_sha256"] != _digest(fam, params):  # written since 0.2.0
        raise CurvecastError(
            f"the {fam.name} fit's draws do not match the checksum written with them: the file was changed or "
            "damaged after it was saved; refit with `curvecast fit DATA -o FIT.nc`"
        )
    diag = Diagnostics.from_dict(cm["diagnostics"])
    return CurveFit(fam, data, priors, params, diag, cm["settings"], load_idata=idata)


def load(path: str | Path) -> CurveFit | AveragedFit:
    """Read a fit saved by :func:`save` (format 2) or by curvecast 0.1.0 (format 1); imports no PyMC."""
    path = Path(path)
    if path.is_dir():
        raise CurvecastError(f"{str(path)!r} is a directory; pass a fit file (.nc) written by `curvecast fit`")
    if not path.is_file():
        raise CurvecastError(f"fit file {str(path)!r} not found; check the path")
    meta = _read_meta(path)
    if meta.get("format") not in READS:
        raise CurvecastError(f"{str(path)!r} uses fit format {meta.get('format')}; this curvecast reads {READS}")
    try:
        d = meta["data"]
        data = CurveData(
            d["n"],
            d["y"],
            increasing=d["increasing"],
            metric_min=d["metric_min"],
            metric_max=d["metric_max"],
            name=d["name"],
            **{k: d[k] for k in ("x_unit", "y_unit", "notes") if k in d},  # saved since 0.2.0
        )
        cms = meta["components"]
        if meta["format"] == 1:
            comps = [_component_v1(path, data, cm, i, len(cms) == 1) for i, cm in enumerate(cms)]
        else:
            comps = [_component_v2(path, data, cm) for cm in cms]
        weights = np.asarray(meta["weights"], float)
        if weights.shape != (len(comps),) or not np.all(np.isfinite(weights)) or not np.isclose(weights.sum(), 1.0):
            raise CurvecastError(f"weights {meta['weights']} do not match its {len(comps)} components")
    except CurvecastError as e:
        raise CurvecastError(f"{str(path)!r} is not a valid curvecast fit: {e}") from None
    except (OSError, KeyError, ValueError, TypeError, IndexError) as e:
        raise CurvecastError(
            f"{str(path)!r} is not a valid curvecast fit ({type(e).__name__}: {str(e)[:80]}); "
            "refit with `curvecast fit DATA -o FIT.nc`"
        ) from None
    return comps[0] if len(comps) == 1 else AveragedFit(comps, weights, method=meta.get("weighting", "stacking"))
