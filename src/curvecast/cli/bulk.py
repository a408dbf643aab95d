"""Commands over many curves: ``backtest`` scores forecasts of held-out points, ``batch`` answers per curve.

Both run on local processes (``--jobs``) or on Dask (``--scheduler ADDRESS`` or ``--scheduler local
--workers K``); with Dask the dashboard's address is printed first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curvecast import tables
from curvecast.cli import render
from curvecast.cli.commands import At, Curves, Limit, Prob
from curvecast.cli.options import FitOptions, Json, with_fit_options
from curvecast.errors import CurvecastError
from curvecast.outputs import check_output
from curvecast.results import check_query

if TYPE_CHECKING:
    from curvecast.parallel import Runner

ENGINE = "Where it runs"
Jobs = Annotated[
    int | None, typer.Option("--jobs", help="Local processes (default: all cores).", rich_help_panel=ENGINE)
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run on Dask: a scheduler address (tcp://host:8786), or 'local' to start a LocalCluster. "
        "Needs curvecast[dask].",
        rich_help_panel=ENGINE,
    ),
]
Workers = Annotated[
    int | None,
    typer.Option("--workers", help="Processes of --scheduler local (default: all cores).", rich_help_panel=ENGINE),
]


def _announce(as_json: bool) -> Callable[[Any, Runner], None]:
    def announce(what: Any, runner: Runner) -> None:
        if as_json:
            return
        if runner.dashboard:
            render.note(f"Dask dashboard: {runner.dashboard}")
        if what is not None:
            skipped = f", {what.skipped} already in {what.out.path} (skipped)" if what.skipped else ""
            render.note(f"{what.todo} curves to answer on {runner.description}{skipped}")

    return announce


@with_fit_options(omit=("curve",))
def backtest(
    o: FitOptions,
    curves: Curves,
    cutoff: Annotated[float, typer.Option("--cutoff", help="Fit on n <= cutoff * max n.")] = 0.1,
    out: Annotated[Path | None, typer.Option("--out", help="Per-curve results (CSV).")] = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    limit: Limit = None,
    pool_by: Annotated[
        str | None, typer.Option("--pool-by", help="Pool curves: 'all' or a regex whose group 1 is the group.")
    ] = None,
    split_column: Annotated[
        str | None, typer.Option("--split-column", help="Column marking rows to fit on (1) and hold out (0).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Fit the early part of every curve (or the rows --split-column marks) and score the forecasts of the rest."""
    from curvecast.backtest import run_backtest
    from curvecast.data import split_masks
    from curvecast.parallel import check_runner_options

    check_runner_options(jobs=jobs, scheduler=scheduler, workers=workers)
    if out is not None:
        check_output(out, inputs=(curves,))
    (data, bad), kw = o.curves(curves, limit), o.fit_kwargs(seed=False)
    masks = split_masks(curves, split_column, x=o.x, y=o.y, curve_by=o.curve_by) if split_column else None
    with render.progress(not as_json, "backtest", bar=True) as update:
        res = run_backtest(
            data, cutoff, fit_kwargs=kw, seed=o.seed, jobs=jobs, progress=update, pool_by=pool_by, masks=masks,
            scheduler=scheduler, workers=workers, on_start=lambda r: _announce(as_json)(None, r), unfit=bad, out=out,
        )  # fmt: skip
    if not as_json and not res["summary"] and not res["interrupted"]:
        raise CurvecastError(f"no curve had 3 distinct n below the cutoff {cutoff}; raise --cutoff")
    split = f"split by {split_column!r}" if split_column else f"cutoff {cutoff:g}"
    title = f"Backtest of {curves.name}, {split} ({o.model})"
    if as_json:
        render.emit_json(res)
    elif res["summary"]:
        render.show(tables.backtest(res, title))
    render.interrupted(res["interrupted"], len(res["curves"]), out)


@with_fit_options(omit=("curve",))
def batch(
    o: FitOptions,
    curves: Curves,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Answers, one row per curve: Parquet (.parquet) or CSV.")
    ],
    at: At,
    targets: Annotated[list[float] | None, typer.Option("--targets", "--target", help="Target metric values.")] = None,
    prob_: Prob = 0.8,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep the curves already in the output; answer only the others.")
    ] = False,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="Curves read and in flight at once (memory grows with it).")
    ] = 64,
    limit: Limit = None,
    as_json: Json = False,
) -> None:
    """Fit every curve in a file and write one row of answers per curve, as each finishes."""
    from curvecast.batch import run_batch
    from curvecast.results import check_prob

    check_prob(prob_)
    check_output(output, inputs=(curves,))
    check_query(at=at)
    with render.progress(not as_json, "batch", bar=True) as update:
        stats = run_batch(
            curves, output, at=at, targets=targets or [], prob=prob_, fit_kwargs=o.fit_kwargs(), make_curve=o.data,
            read=o.read_kwargs(), limit=limit, resume=resume, chunk_size=chunk_size, jobs=jobs, scheduler=scheduler,
            workers=workers, progress=update, on_start=_announce(as_json),
        )  # fmt: skip
    render.emit_json(stats) if as_json else render.show(tables.batch(stats))
    kept = stats["answered"] + stats["failed"] + stats["skipped"]
    render.interrupted(stats["interrupted"], kept, output if Path(output).exists() else None)
