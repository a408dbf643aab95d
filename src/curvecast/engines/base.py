"""What every engine provides, and what they share: the one-warning-per-cause rule."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any, Protocol

from curvecast.errors import SlowPathWarning
from curvecast.model import ModelSpec

#: causes of a slower path already reported in this process
_WARNED: set[str] = set()


class Engine(Protocol):
    """A NUTS back end: samples a :class:`~curvecast.model.ModelSpec`.

    An engine keeps the models it has compiled in this process, keyed by
    ``spec.identity()``, and gives each new set of curves only new data.
    """

    name: str

    def sample(
        self, spec: ModelSpec, *, draws: int, tune: int, chains: int, cores: int, seed: int, target_accept: float
    ) -> Any:
        """ArviZ InferenceData: ``posterior`` (chain, draw[, curve]) under the model's variable
        names, ``sample_stats`` with ``diverging``."""
        ...


def warn_slow(kind: str, message: str) -> None:
    """Warn with :class:`SlowPathWarning` once per process for each ``kind`` of cause."""
    if kind in _WARNED:
        return
    _WARNED.add(kind)
    warnings.warn(message, SlowPathWarning, stacklevel=3)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The samplers' user, future and runtime warnings off: diagnostics are reported by curvecast."""
    with warnings.catch_warnings():
        for category in (UserWarning, FutureWarning, RuntimeWarning):
            warnings.filterwarnings("ignore", category=category)
        yield


def tidy(idata: Any, spec: ModelSpec) -> Any:
    """The model's own variables only (no ``*__`` transformed values), labelled with the curve names."""
    for group in ("posterior", "warmup_posterior"):
        if group in idata.groups():
            ds = getattr(idata, group)
            drop = [v for v in ds.data_vars if str(v).endswith("__")]
            if spec.multi and "curve" in ds.dims:
                ds = ds.assign_coords(curve=spec.coords["curve"])
            ds = ds.drop_vars(drop)
            used = {d for v in ds.data_vars.values() for d in v.dims}
            setattr(idata, group, ds.drop_vars([c for c in ds.coords if c in ds.dims and c not in used]))
    return idata
