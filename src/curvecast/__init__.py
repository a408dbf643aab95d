"""curvecast: Bayesian learning-curve forecasts.

>>> import curvecast as cc
>>> f = cc.fit([1183, 2957, 5914, 11829], [0.191, 0.262, 0.323, 0.376], seed=1)
>>> f.prob(0.5, at=100_000)          # P(mAP >= 0.5 at 100k images)
>>> f.need(0.5, prob=0.8)            # images needed for mAP 0.5 with 80 % probability
>>> f.gain(10_000)                   # what the next 10k images buy
>>> cc.save(f, "coco.nc"); cc.load("coco.nc")

Heavy modules (PyMC, ArviZ) are imported only when needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

#: public name -> (module, attribute); each is imported on first use
_EXPORTS = {
    "fit": ("curvecast.inference", "fit"),
    "fit_pooled": ("curvecast.inference", "fit_pooled"),
    "load": ("curvecast.persist", "load"),
    "save": ("curvecast.persist", "save"),
    "plot_fan": ("curvecast.plotting", "plot_fan"),
    "plot_reach": ("curvecast.plotting", "plot_reach"),
    "plot_forecast": ("curvecast.plotting", "plot_forecast"),
    "load_curves": ("curvecast.data", "load_curves"),
    "bundled_seed_path": ("curvecast.data", "bundled_seed_path"),
    "derive_priors": ("curvecast.transfer", "derive"),
    "compare_priors": ("curvecast.transfer", "compare"),
    "priors_to_toml": ("curvecast.priors", "to_toml"),
    "CurveData": ("curvecast.data", "CurveData"),
    "FitOptions": ("curvecast.fit_options", "FitOptions"),
    "Prior": ("curvecast.priors", "Prior"),
    "CurvecastError": ("curvecast.errors", "CurvecastError"),
    "DiagnosticsWarning": ("curvecast.errors", "DiagnosticsWarning"),
    "CurveFit": ("curvecast.results", "CurveFit"),
    "AveragedFit": ("curvecast.results", "AveragedFit"),
    "PooledFit": ("curvecast.results", "PooledFit"),
    "families": ("curvecast.families", ""),  # the module: cc.families.REGISTRY, cc.families.get_family
    # issue 13: decisions in the user's units
    "next_run": ("curvecast.run_value", "next_run"),
    "compare": ("curvecast.comparison", "compare"),
    "plot_compare": ("curvecast.plotting", "plot_compare"),
    "plot_pair": ("curvecast.plotting", "plot_pair"),
    "Costs": ("curvecast.units", "Costs"),
    "costed_need": ("curvecast.units", "costed_need"),
    "costed_gain": ("curvecast.units", "costed_gain"),
    "from_mlflow": ("curvecast.tracking", "from_mlflow"),
    "log_forecast": ("curvecast.tracking_log", "log_forecast"),
    "write_report": ("curvecast.report", "write_report"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'curvecast' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    return getattr(mod, attr) if attr else mod
