"""Decisions: ``next`` (which training run to do next) and ``compare`` (which of two models to back)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curvecast import tables
from curvecast.cli import render
from curvecast.cli.commands import Cost, FixedCost, Interval, Target, forecast, is_fit, query
from curvecast.cli.options import PANEL, FitOptions, Json, Strict, with_fit_options
from curvecast.errors import CurvecastError
from curvecast.outputs import check_output
from curvecast.results import as_sizes, check_prob
from curvecast.units import Costs

if TYPE_CHECKING:
    from curvecast.results import Forecast

NextAt = Annotated[float | None, typer.Option("--at", help="Ask: is TARGET reached at this n? (else: n needed)")]
NeedProb = Annotated[float | None, typer.Option("--prob", "-p", help="Ask: n needed with this probability (0.8).")]
Confidence = Annotated[float, typer.Option("--confidence", help="A question is decided at this confidence.")]
Within = Annotated[float, typer.Option("--within", help="n needed is decided when known within this factor.")]
Candidates = Annotated[str | None, typer.Option("--candidates", help="Sizes to consider: n1,n2,... (total n).")]
Method = Annotated[str, typer.Option("--method", help="auto, weights (reweight draws) or refit (brute force).")]
Outcomes = Annotated[int | None, typer.Option("--outcomes", help="Simulated results per size (200 / 5 refits).")]


def sizes(text: str | None, flag: str = "--candidates") -> list[float] | None:
    """``"20000,5e4"`` -> ``[20000.0, 50000.0]``; a clear error for anything else."""
    if text is None:
        return None
    try:
        values = [float(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CurvecastError(f"{flag} takes sizes separated by commas, such as 20000,50000; got {text!r}") from None
    if not values:
        raise CurvecastError(f"{flag} is empty; give sizes such as 20000,50000")
    try:
        return as_sizes(values).tolist()
    except CurvecastError:
        raise CurvecastError(f"{flag} must be sizes > 0, such as 20000,50000; got {text!r}") from None


def _check_next(**own: Any) -> None:
    from curvecast.run_value import check_options

    Costs.of(own["cost_per_sample"], own["fixed_cost"])
    check_options(prob=own.pop("need_prob"), candidates=sizes(own.pop("candidates")), **own)


@query(tables.next_run, precheck=_check_next)
def next_run(
    f: Forecast,
    target: Target,
    at: NextAt = None,
    need_prob: NeedProb = None,
    confidence: Confidence = 0.9,
    within: Within = 2.0,
    candidates: Candidates = None,
    cost_per_sample: Cost = None,
    fixed_cost: FixedCost = None,
    method: Method = "auto",
    outcomes: Outcomes = None,
) -> dict[str, Any]:
    """Which training-set size to run next (to decide: TARGET at --at N? or data needed at --prob P?)."""
    from curvecast.run_value import next_run as ask

    kw: dict[str, Any] = {"at": at, "prob": need_prob, "confidence": confidence, "within": within, "method": method}
    kw |= {"candidates": sizes(candidates), "costs": Costs.of(cost_per_sample, fixed_cost), "outcomes": outcomes}
    seed = int(f.settings.get("seed", 0))
    with render.progress(True, "Simulating runs at each candidate size...", bar=True) as update:
        return ask(f, target, seed=seed, progress=update, **kw)


Sources = Annotated[
    list[Path], typer.Argument(help="A and B: two data files, two saved fits (.nc), or one file with --curve twice.")
]
CurvePair = Annotated[
    list[str] | None,
    typer.Option("--curve", help="Curve of A, then of B (twice; or once per data file).", rich_help_panel=PANEL),
]
CompareAt = Annotated[list[float] | None, typer.Option("--at", help="Sizes n to compare at (repeat).")]
CompareTarget = Annotated[float | None, typer.Option("--target", "-t", help="Which reaches it with less data?")]
MaxN = Annotated[float | None, typer.Option("--max-n", help="Look for a crossing up to this n (10 x the data).")]
Plot = Annotated[Path | None, typer.Option("-o", "--output", help="Overlay plot of both fans (.png or .svg).")]


def _pair(sources: list[Path], curves: list[str]) -> list[tuple[Path, str | None]]:
    """(source, curve) of A and of B."""
    if len(sources) == 1:
        if len(curves) != 2:
            raise CurvecastError("with one file, name the two curves to compare: --curve A_NAME --curve B_NAME")
        return [(sources[0], curves[0]), (sources[0], curves[1])]
    if len(sources) != 2:
        raise CurvecastError(f"compare takes two sources (A and B), got {len(sources)}")
    if len(curves) not in (0, 2):
        raise CurvecastError("with two sources, give --curve twice (A's, then B's) or not at all")
    return [(s, curves[i] if curves else None) for i, s in enumerate(sources)]


@with_fit_options(omit=("curve",))
def compare(
    o: FitOptions,
    sources: Sources,
    curve: CurvePair = None,
    at: CompareAt = None,
    target: CompareTarget = None,
    max_n: MaxN = None,
    interval: Interval = 0.9,
    output: Plot = None,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """Which of two models to back: P(A better than B) at each n, the crossing, who reaches TARGET first."""
    from curvecast.comparison import compare as ask
    from curvecast.plotting import plot_compare

    pair = _pair(sources, curve or [])
    if output is not None:
        check_output(output, inputs=tuple(sources), suffixes=(".png", ".svg"))
    if at is not None:
        as_sizes(at)
    check_prob(interval, "--interval")
    fits = []
    for i, (path, name) in enumerate(pair):
        if is_fit(path) and name is not None:
            raise CurvecastError(f"{path} is a saved fit of one curve; drop --curve for it")
        opts = o if is_fit(path) else replace(o, curve=name, seed=o.seed + i)
        data = None if is_fit(path) else opts.curve_data(path)  # read both before sampling either
        if data is not None and target is not None:
            data.check_target(target)
        fits.append((path, opts, data))
    a, b = (forecast(path, opts, as_json, data=data) for path, opts, data in fits)
    r = ask(a, b, at=at, target=target, max_n=max_n, interval=interval, seed=o.seed)
    if output is not None:
        plot_compare(a, b, r, output, target)
    if as_json:
        render.emit_json(r | {"fit_a": render.fitted(a), "fit_b": render.fitted(b)})
    else:
        render.show(tables.comparison(r, tables.caption(a), tables.caption(b)))
        if output is not None:
            typer.echo(f"wrote {output}")
    for tag, f in (("A", a), ("B", b)):
        render.check_diagnostics(f.diagnostics, strict, as_json, f"{tag} ({f.data.name}): ")
