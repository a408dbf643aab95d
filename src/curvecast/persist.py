"""Save fits to netCDF and load them back without importing PyMC.

A file is an ArviZ InferenceData netCDF file whose ``posterior`` group carries
a ``curvecast`` attribute: JSON with the family (or families and weights), the
priors, the data, the metric direction and bounds, the sampler settings, the
diagnostics and the package version.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError

FORMAT = 1


def atomic_write(path: str | Path, write: Any) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: no half-written files."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise CurvecastError(f"output directory {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _data_meta(d: CurveData) -> dict[str, Any]:
    return {
        "n": d.n.tolist(),
        "y": d.y.tolist(),
        "increasing": d.increasing,
        "metric_min": d.metric_min,
        "metric_max": d.metric_max,
        "name": d.name,
    }


def _fit_meta(f: Any) -> dict[str, Any]:
    return {
        "family": f.family.name,
        "priors": {k: p.to_dict() for k, p in f.priors.items()},
        "settings": f.settings,
        "diagnostics": f.diagnostics,
    }


def save_fit(fit: Any, path: str | Path) -> None:
    """Write a CurveFit or AveragedFit to ``path`` atomically."""
    import arviz as az
    import xarray as xr

    from curvecast import __version__

    components = getattr(fit, "components", [fit])
    posterior: dict[str, Any] = {}
    for i, c in enumerate(components):
        for k, v in c.params_.items():
            posterior[f"c{i}__{k}"] = xr.DataArray(v[None, :], dims=("chain", f"draw_c{i}"))
    meta = {
        "format": FORMAT,
        "version": __version__,
        "data": _data_meta(fit.data),
        "components": [_fit_meta(c) for c in components],
        "weights": list(getattr(fit, "weights", [1.0])),
        "diagnostics": fit.diagnostics,
        "extra": getattr(fit, "extra_meta", {}),
    }
    post = xr.Dataset(posterior, attrs={"curvecast": json.dumps(meta)})
    groups: dict[str, Any] = {"posterior": post}
    if getattr(components[0], "_idata", None) is not None and len(components) == 1:
        src = components[0]._idata
        if hasattr(src, "sample_stats"):
            groups["sample_stats"] = src.sample_stats
        groups["fit_posterior"] = src.posterior
    groups["observed_data"] = xr.Dataset({"y": ("obs", fit.data.y)}, coords={"n": ("obs", fit.data.n)})
    idata = az.InferenceData(**groups)
    atomic_write(path, lambda tmp: idata.to_netcdf(tmp, engine="h5netcdf"))


def load_fit(path: str | Path) -> Any:
    """Read a fit saved by :func:`save_fit`; needs neither PyMC nor compilation."""
    import xarray as xr

    from curvecast.families import get_family
    from curvecast.fitting import CurveFit
    from curvecast.priors import Prior

    path = Path(path)
    if not path.is_file():
        raise CurvecastError(f"fit file {str(path)!r} not found")
    try:
        with xr.open_dataset(path, group="posterior", engine="h5netcdf") as ds:
            ds.load()
            meta = json.loads(ds.attrs["curvecast"])
            arrays = {str(k): np.asarray(ds[k].values).reshape(-1) for k in ds.data_vars}
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise CurvecastError(
            f"{str(path)!r} is not a curvecast fit (corrupt or foreign netCDF: {type(e).__name__}); "
            "refit with `curvecast fit DATA -o FIT.nc`"
        ) from None
    if meta.get("format") != FORMAT:
        raise CurvecastError(f"{str(path)!r} uses fit format {meta.get('format')}; this curvecast reads {FORMAT}")
    d = meta["data"]
    data = CurveData(
        d["n"],
        d["y"],
        increasing=d["increasing"],
        metric_min=d["metric_min"],
        metric_max=d["metric_max"],
        name=d["name"],
    )
    comps = []
    for i, cm in enumerate(meta["components"]):
        fam = get_family(cm["family"])
        params = {k.split("__", 1)[1]: v for k, v in arrays.items() if k.startswith(f"c{i}__")}
        priors = {k: Prior.from_dict(v) for k, v in cm["priors"].items()}
        comps.append(
            CurveFit(
                fam,
                data,
                priors,
                params,
                cm["diagnostics"],
                cm["settings"],
                source=str(path) if len(meta["components"]) == 1 else None,
            )
        )
    if len(comps) == 1:
        return comps[0]
    from curvecast.averaging import AveragedFit

    return AveragedFit(comps, np.asarray(meta["weights"]), extra_meta=meta.get("extra", {}))
