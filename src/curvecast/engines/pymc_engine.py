"""PyMC's own NUTS: slower than nutpie, no disk cache; the reference implementation."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from curvecast.engines.base import quiet, tidy
from curvecast.model import ModelSpec


class PymcEngine:
    """``pm.sample`` on the model built once per identity; new curves swap its data."""

    name = "pymc"
    _models: ClassVar[dict[tuple[Any, ...], Any]] = {}

    def model(self, spec: ModelSpec) -> Any:
        """The PyMC model of ``spec``'s identity, holding ``spec``'s data."""
        import pymc as pm

        key = spec.identity()
        if key not in self._models:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._models[key] = spec.build()
        model = self._models[key]
        with model:
            pm.set_data(spec.values())
        for dim, names in spec.coords.items():
            model.set_dim(dim, len(names), coord_values=names)
        return model

    def sample(
        self, spec: ModelSpec, *, draws: int, tune: int, chains: int, cores: int, seed: int, target_accept: float
    ) -> Any:
        import pymc as pm

        model = self.model(spec)
        with quiet(), model:
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=seed,
                target_accept=target_accept,
                progressbar=False,
                compute_convergence_checks=False,
            )
        return tidy(idata, spec)
