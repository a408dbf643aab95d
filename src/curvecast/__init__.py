"""curvecast: Bayesian learning-curve forecasts.

>>> import curvecast as cc
>>> f = cc.fit([1183, 2957, 5914, 11829], [0.191, 0.262, 0.323, 0.376], seed=1)
>>> f.prob(0.5, at=100_000)          # P(mAP >= 0.5 at 100k images)
>>> f.need(0.5, prob=0.8)            # images needed for mAP 0.5 with 80 % probability
>>> f.gain(10_000)                   # what the next 10k images buy

Heavy modules (PyMC, ArviZ) are imported only when needed.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["CurveData", "CurvecastError", "Prior", "families", "fit", "load"]


def __getattr__(name: str) -> Any:
    if name == "fit":
        from curvecast.fitting import fit

        return fit
    if name == "load":
        from curvecast.persist import load_fit

        return load_fit
    if name == "CurveData":
        from curvecast.data import CurveData

        return CurveData
    if name == "Prior":
        from curvecast.priors import Prior

        return Prior
    if name == "CurvecastError":
        from curvecast.errors import CurvecastError

        return CurvecastError
    if name == "families":
        from curvecast.families import REGISTRY

        return REGISTRY
    raise AttributeError(name)
