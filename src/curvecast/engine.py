"""NUTS engines. nutpie (default) compiles each model once per process and
reuses it for every curve by swapping data; PyMC's own NUTS is the fallback.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from curvecast.data import CurveData
from curvecast.families import Family
from curvecast.model import build_model, data_values
from curvecast.priors import Prior

ENGINES = ("nutpie", "pymc")
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


def _key(family: type[Family], priors: dict[str, Prior], engine: str) -> tuple[Any, ...]:
    return (engine, family.name, tuple(sorted((k, p.dist, repr(sorted(p.params.items()))) for k, p in priors.items())))


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
    key = _key(family, priors, engine)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        if engine == "nutpie":
            import nutpie

            if key not in _CACHE:
                _CACHE[key] = nutpie.compile_pymc_model(build_model(family, data, priors))
            base = _CACHE[key]
            compiled = base.with_data(**{k: v for k, v in values.items() if k in base.shared_data})
            return nutpie.sample(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                progress_bar=False,
                target_accept=target_accept,
                low_rank_modified_mass_matrix=os.environ.get("CURVECAST_LOWRANK", "0") == "1",
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
