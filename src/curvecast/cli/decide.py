"""Decisions: ``next`` (which training run to do next) and ``compare`` (which of two models to back)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from curvecast import console, tables
from curvecast.cli import render
from curvecast.cli.commands import query
from curvecast.cli.options import with_fit_options
from curvecast.errors import CurvecastError
from curvecast.fit_options import FitOptions
from curvecast.outputs import check_output
from curvecast.results import as_sizes, check_query
from curvecast.units import Costs

if TYPE_CHECKING:
    from curvecast.results import Forecast


def sizes(text: str | None) -> list[float] | None:
    """``"20000,5e4"`` -> ``[20000.0, 50000.0]``; a clear error for anything else."""
    try:
        return None if text is None else as_sizes([float(v.replace("_", "")) for v in text.split(",")]).tolist()
    except (ValueError, CurvecastError):
        raise CurvecastError(
            f"--candidates takes sizes > 0 separated by commas, such as 20000,50000; got {text!r}"
        ) from None


def check_next(candidates: str | None, cost_per_sample: float | None, fixed_cost: float | None, **own: Any) -> None:
    from curvecast.run_value import check_options

    Costs.of(cost_per_sample, fixed_cost)
    check_options(candidates=sizes(candidates), **own)


@query(tables.next_run, precheck=check_next)
def next_run(
    f: Forecast, target: float, at: float | None = None, prob: float | None = None, confidence: float = 0.9,
    within: float = 2.0, candidates: str | None = None, cost_per_sample: float | None = None,
    fixed_cost: float | None = None, method: str = "auto", outcomes: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Which training-set size to run next (to decide: TARGET at --at N? or data needed at --prob P?)."""
    from curvecast.run_value import next_run as ask

    with console.progress(True, "Simulating runs at each candidate size...", bar=True) as update:
        return ask(
            f, target, at=at, prob=prob, confidence=confidence, within=within, candidates=sizes(candidates),
            costs=Costs.of(cost_per_sample, fixed_cost), method=method, outcomes=outcomes,
            seed=int(f.settings.get("seed", 0)), progress=update,
        )  # fmt: skip


@with_fit_options(omit=("curve",))
def compare(
    o: FitOptions, sources: list[Path], curve: list[str] | None = None, at: list[float] | None = None,
    target: float | None = None, max_n: float | None = None, interval: float = 0.9, output: Path | None = None,
    as_json: bool = False, strict: bool = False,
) -> None:  # fmt: skip
    """Which of two models to back: P(A better than B) at each n, the crossing, who reaches TARGET first."""
    from curvecast.comparison import compare as ask
    from curvecast.plotting import plot_compare

    if output is not None:
        check_output(output, inputs=tuple(sources), suffixes=(".png", ".svg"))
    check_query(at=at, interval=interval, max_n=max_n)
    with console.progress(not as_json, f"Sampling {o.model} for A and B ({o.chains} chains x {o.draws} draws)..."):
        a, b = o.pair(sources, curve, target)
    console.notes(f"{tag}: {note}" for tag, f in (("A", a), ("B", b)) for note in f.data.notes)
    r = ask(a, b, at=at, target=target, max_n=max_n, interval=interval, seed=o.seed)
    if output is not None:
        plot_compare(a, b, r, output, target)
    if as_json:
        render.emit_json(r | {"fit_a": a.describe(), "fit_b": b.describe()})
    else:
        console.show(
            tables.comparison(r, tables.caption(a), tables.caption(b)) + ([f"wrote {output}"] if output else [])
        )
    for tag, f in (("A", a), ("B", b)):
        render.check_diagnostics(f.diagnostics, strict, as_json, f"{tag} ({f.data.name}): ")
