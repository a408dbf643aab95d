"""Plots as free functions that take a forecast and a matplotlib ``ax``; axes are labelled in the curve's units."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from curvecast.errors import CurvecastError
from curvecast.formats import size
from curvecast.outputs import FIGURE_SUFFIXES, check_output, save_figure
from curvecast.results import Forecast, positive_number


def n_grid(forecast: Forecast, max_n: float | None = None, num: int = 120) -> np.ndarray:
    d = forecast.data
    hi = positive_number(max_n, "--max-n") if max_n is not None else d.n_ref * 20
    if hi <= d.n.min():
        raise CurvecastError(f"--max-n {hi:g} must exceed the smallest observed n ({d.n.min():g})")
    return np.geomspace(d.n.min() / 1.5, hi, num)


def x_label(forecast: Forecast) -> str:
    return f"{forecast.data.x_unit} (training set size)"


def plot_fan(
    forecast: Forecast, ax: Any, target: float | None = None, max_n: float | None = None, prob: float = 0.8
) -> Any:
    """Observed points, median curve, 50 % and 90 % bands on a log-x axis; target and n needed."""
    n = n_grid(forecast, max_n)
    qm = np.quantile(forecast.measured(n), [0.05, 0.95], axis=0)
    ax.fill_between(n, qm[0], qm[1], color="tab:blue", alpha=0.08, label="90 % measured")
    _bands(ax, n, forecast, "tab:blue", "")
    d = forecast.data
    ax.scatter(d.n, d.y, color="black", zorder=5, s=18, label="observed")
    if target is not None:
        ax.axhline(target, color="tab:red", ls="--", lw=1, label=f"target {target:g}")
        need = forecast.need(target, prob=prob)
        if 0 < need["n_needed"] <= n[-1]:  # only when it falls inside the plotted range
            ax.axvline(
                need["n_needed"],
                color="tab:red",
                lw=1,
                ls=":",
                label=f"P={prob:g}: {size(need['n_needed'])} {d.x_unit}",
            )
    ax.set_xscale("log")
    ax.set_xlabel(x_label(forecast))
    ax.set_ylabel(d.y_unit)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_reach(forecast: Forecast, ax: Any, target: float, max_n: float | None = None) -> Any:
    """P(reach target) against n."""
    n = n_grid(forecast, max_n)
    ax.plot(n, forecast.prob(target, n), color="tab:red", lw=2, label="curve (latent)")
    ax.plot(n, forecast.prob(target, n, measured=True), color="tab:orange", lw=1, ls="--", label="a new measurement")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(x_label(forecast))
    ax.set_ylabel(f"P({forecast.data.y_unit} reaches {target:g})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return ax


def _bands(ax: Any, n: np.ndarray, forecast: Forecast, color: str, name: str) -> None:
    """The 90 % and 50 % bands of the curve and its median."""
    q = np.quantile(forecast.latent(n), [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax.fill_between(n, q[0], q[4], color=color, alpha=0.18, label=f"{name}90 % curve")
    ax.fill_between(n, q[1], q[3], color=color, alpha=0.35, label=f"{name}50 % curve")
    ax.plot(n, q[2], color=color, lw=2, label=f"{name}median")


def plot_pair(a: Forecast, b: Forecast, result: dict[str, Any], ax: Any, target: float | None = None) -> Any:
    """Both fan charts on one axis (A blue, B orange), the observed points and the crossing: the median
    as a line and its interval shaded, or "no crossing" in the title; ``result`` is :func:`curvecast.compare`'s."""
    lo, hi = result["crossing"]["range"]
    n = np.geomspace(lo / 1.5, hi, 160)
    for f, color, tag, marker in ((a, "tab:blue", "A", "o"), (b, "tab:orange", "B", "s")):
        _bands(ax, n, f, color, f"{tag}: ")
        ax.scatter(f.data.n, f.data.y, color=color, edgecolor="black", marker=marker, zorder=5, s=22,
                   label=f"{tag}: {f.data.name}")  # fmt: skip
    c = result["crossing"]
    if c["median"] is not None:
        ax.axvspan(*c["interval"], color="tab:red", alpha=0.1, label=f"{result['interval_level']:.0%} crossing")
        ax.axvline(c["median"], color="tab:red", lw=1.2, ls="--", label=f"crossing {size(c['median'])} {a.data.x_unit}")
        ax.set_title(f"A and B cross with probability {c['p_cross']:.2f}", fontsize=9)
    else:
        ax.set_title(f"no crossing up to {size(hi)} {a.data.x_unit} (probability {c['p_no_cross']:.2f})", fontsize=9)
    if target is not None:
        ax.axhline(target, color="tab:red", ls=":", lw=1, label=f"target {target:g}")
    ax.set_xscale("log")
    ax.set_xlabel(x_label(a))
    ax.set_ylabel(a.data.y_unit)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6, loc="best")
    return ax


def plot_compare(
    a: Forecast, b: Forecast, result: dict[str, Any], path: str | Path, target: float | None = None
) -> Path:
    """Write :func:`plot_pair` to PNG or SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_output(path, suffixes=FIGURE_SUFFIXES)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    plot_pair(a, b, result, ax, target)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_forecast(
    forecast: Forecast, path: str | Path, target: float | None = None, max_n: float | None = None, prob: float = 0.8
) -> Path:
    """Write the fan chart (and the P(reach) panel when a target is given) to PNG or SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_output(path, suffixes=FIGURE_SUFFIXES)
    if target is not None:
        forecast.data.check_target(target)
    panels = 2 if target is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4.5), squeeze=False)
    plot_fan(forecast, axes[0, 0], target, max_n, prob)
    axes[0, 0].set_title(f"{forecast.data.name}: {forecast.label}", fontsize=9)
    if target is not None:
        plot_reach(forecast, axes[0, 1], target, max_n)
    fig.tight_layout()
    return save_figure(fig, path)
