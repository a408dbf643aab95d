"""NUTS engines. nutpie (default) compiles each model once per process and
reuses it for every curve by swapping data; PyMC's own NUTS is the fallback.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, cast

from curvecast import logp_cache
from curvecast.data import CurveData
from curvecast.families import Family
from curvecast.logp_cache import CachedModel
from curvecast.model import build_model, data_values
from curvecast.priors import Prior

#: nutpie: Rust NUTS on a numba-compiled log-density; the compiled callbacks are kept on
#: disk (``logp_cache``), so only the first process to see a model pays the ~10 s compile.
#: nutpie-c: the same sampler on a PyTensor C-compiled log-density called from Python
#: (compiled modules are cached on disk, so a new process starts fast; single forecasts).
#: pymc: PyMC's own NUTS, the fallback.
ENGINES = ("nutpie", "nutpie-c", "pymc")
_CACHE: dict[tuple[Any, ...], Any] = {}


def default_engine() -> str:
    env = os.environ.get("CURVECAST_ENGINE")
    if env in ENGINES:
        return env
    try:
        import nutpie  # noqa: F401
    except ImportError:  # pragma: no cover - nutpie is a dependency
        return "pymc"
    return "nutpie"


def _key(family: type[Family], priors: dict[str, Prior], engine: str, replicates: bool) -> tuple[Any, ...]:
    return (
        engine,
        family.name,
        replicates,
        tuple(sorted((k, p.dist, repr(sorted(p.params.items()))) for k, p in priors.items())),
    )


def sample(
    family: type[Family],
    data: CurveData,
    priors: dict[str, Prior],
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    engine: str | None = None,
    cores: int | None = None,
) -> Any:
    """Run NUTS; returns ArviZ InferenceData with posterior and sample_stats."""
    engine = engine or default_engine()
    cores = cores or (1 if os.environ.get("CURVECAST_WORKER") else min(chains, os.cpu_count() or 1))
    values = data_values(family, data)
    key = _key(family, priors, engine, data.has_replicates)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        if engine in ("nutpie", "nutpie-c"):
            import nutpie

            if key not in _CACHE:
                _CACHE[key] = (
                    _compile_nutpie(family, data, priors, key)
                    if engine == "nutpie"
                    else _CModel(build_model(family, data, priors))
                )
            base = _CACHE[key]
            if isinstance(base, CachedModel):
                compiled = base.with_data(values)
            elif engine == "nutpie":
                compiled = base.with_data(**{k: v for k, v in values.items() if k in base.shared_data})
            else:
                base.set_data(values)
                compiled = base.nutpie_model(seed)
            return nutpie.sample(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                progress_bar=False,
                target_accept=target_accept,
            )
        if engine == "pymc":
            import pymc as pm

            if key not in _CACHE:
                _CACHE[key] = build_model(family, data, priors)
            model = _CACHE[key]
            with model:
                pm.set_data({k: v for k, v in values.items() if k in model.named_vars})
                return pm.sample(
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    cores=cores,
                    random_seed=seed,
                    target_accept=target_accept,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
    raise ValueError(f"unknown engine {engine!r}; use one of {ENGINES}")


def _compile_nutpie(family: type[Family], data: CurveData, priors: dict[str, Prior], key: Any) -> Any:
    """The model's callbacks from the disk cache (a hit needs neither PyMC nor a compile),
    compiling them in a child process on a miss; nutpie's own per-process compile where
    the cache cannot serve the model (``CURVECAST_NO_DISK_CACHE=1`` forces that)."""
    import nutpie

    if os.environ.get("CURVECAST_NO_DISK_CACHE") != "1":
        cached = logp_cache.load(key)
        if cached is None:
            _store_in_child(family, priors, data.has_replicates)
            cached = logp_cache.load(key)
        if cached is not None:
            return cached
    return nutpie.compile_pymc_model(build_model(family, data, priors))


def _store_in_child(family: type[Family], priors: dict[str, Prior], replicates: bool) -> None:
    """Compile and store a model's callbacks in a fresh process (see ``logp_cache.store``)."""
    import contextlib
    import json
    import subprocess
    import sys
    from pathlib import Path

    recipe = {
        "family": family.name,
        "priors": {k: p.to_dict() for k, p in priors.items()},
        "replicates": replicates,
    }
    src = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])]))
    with contextlib.suppress(OSError, subprocess.SubprocessError):  # the caller falls back
        subprocess.run(
            [sys.executable, "-m", "curvecast.engine", json.dumps(recipe)],
            env=env,
            capture_output=True,
            timeout=900,
            check=False,
        )


def _store_recipe(recipe: dict[str, Any]) -> bool:
    """Child-process side of ``_store_in_child``: build the model on stand-in data (data
    only enters as ``pm.Data``) and store its callbacks under the key ``sample`` uses."""
    from curvecast.families import get_family

    family = get_family(recipe["family"])
    priors = {k: Prior.from_dict(v) for k, v in recipe["priors"].items()}
    n = [1000.0, 2000.0, 4000.0, 8000.0]
    y = [0.2, 0.3, 0.35, 0.4]
    if recipe["replicates"]:
        n, y = n + n, y + [v + 0.01 for v in y]
    data = CurveData(n, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(family, data, priors)
        return logp_cache.store(model, _key(family, priors, "nutpie", bool(recipe["replicates"])))


class _CModel:
    """A PyMC model's log-density and gradient compiled by PyTensor's C backend for nutpie.

    Every free variable of a curvecast model is a scalar, so the unconstrained
    point is simply the vector of value variables.
    """

    def __init__(self, model: Any) -> None:
        import numpy as np
        import pytensor
        import pytensor.tensor as pt

        self.model = model
        vvars = model.value_vars
        x = pt.dvector("x")
        repl = {v: x[i] for i, v in enumerate(vvars)}
        logp = model.logp()
        grad = pt.stack(cast(list[Any], pytensor.grad(logp, vvars)))
        logp_x, grad_x = pytensor.clone_replace([logp, grad], repl)
        self._logp = pytensor.function([x], [logp_x, grad_x], mode="FAST_RUN", on_unused_input="ignore")
        self._logp.trust_input = True
        outs = [model.unobserved_value_vars[i] for i in range(len(model.unobserved_value_vars))]
        names = [o.name for o in outs]
        self._names = names
        expand = pytensor.clone_replace(outs, repl)
        self._expand = pytensor.function([x], expand, mode="FAST_RUN", on_unused_input="ignore")
        self._expand.trust_input = True
        self._vnames = [v.name for v in vvars]
        self._np = np

    def set_data(self, values: dict[str, Any]) -> None:
        import pymc as pm

        with self.model:
            pm.set_data({k: v for k, v in values.items() if k in self.model.named_vars})

    def nutpie_model(self, seed: int) -> Any:
        from nutpie.compiled_pyfunc import from_pyfunc

        np = self._np
        point = self.model.initial_point()
        x0 = np.array([float(point[n]) for n in self._vnames])
        logp_fn, expand_fn, names = self._logp, self._expand, self._names

        def make_logp() -> Any:
            def logp(x: Any) -> Any:
                lp, g = logp_fn(x)
                return float(lp), g

            return logp

        def make_expand(seed1: int, seed2: int, chain: int) -> Any:
            def expand(x: Any) -> Any:
                return {n: np.asarray(v, dtype="float64") for n, v in zip(names, expand_fn(x), strict=True)}

            return expand

        def init(s: int) -> Any:
            return x0 + np.random.default_rng([seed, s]).uniform(-0.5, 0.5, x0.size)

        return from_pyfunc(
            x0.size,
            make_logp,
            make_expand,
            [np.dtype("float64")] * len(names),
            [()] * len(names),
            names,
            make_initial_point_fn=init,
        )


if __name__ == "__main__":  # pragma: no cover - exercised through _store_in_child
    import json
    import sys

    sys.exit(0 if _store_recipe(json.loads(sys.argv[1])) else 1)
