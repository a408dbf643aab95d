"""NUTS engines. nutpie (default) compiles each model once per process and
reuses it for every curve by swapping data; PyMC's own NUTS is the fallback.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, cast

from curvecast.data import CurveData
from curvecast.families import Family
from curvecast.model import build_model, data_values
from curvecast.priors import Prior

#: nutpie: Rust NUTS on a numba-compiled log-density (slow compile, fast sampling; bulk work).
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
                model = build_model(family, data, priors)
                _CACHE[key] = nutpie.compile_pymc_model(model) if engine == "nutpie" else _CModel(model)
            base = _CACHE[key]
            if engine == "nutpie":
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
