"""Commands over many curves: ``backtest`` scores forecasts of held-out points, ``batch`` answers per curve.

Both run on local processes (``--jobs``) or on Dask (``--scheduler ADDRESS`` or ``--scheduler local
--workers K``); with Dask the dashboard's address is printed first.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curvecast.cli import render
from curvecast.cli.commands import At, Curves, Limit, Prob
from curvecast.cli.options import FitOptions, Json, with_fit_options
from curvecast.errors import CurvecastError
from curvecast.outputs import atomic_write, check_output
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


def _note(msg: str) -> None:
    """One line on stderr (stdout is kept for --json)."""
    from rich.markup import escape

    render._console(stderr=True).print(escape(msg), soft_wrap=True)


def _announce(as_json: bool) -> Callable[[Any, Runner], None]:
    def announce(what: Any, runner: Runner) -> None:
        if as_json:
            return
        if runner.dashboard:
            _note(f"Dask dashboard: {runner.dashboard}")
        if what is not None:
            skipped = f", {what.skipped} already in {what.out.path} (skipped)" if what.skipped else ""
            _note(f"{what.todo} curves to answer on {runner.description}{skipped}")

    return announce


@contextlib.contextmanager
def _runner(as_json: bool, **options: Any) -> Iterator[Runner]:
    from curvecast.parallel import open_runner

    with open_runner(**options) as runner:
        _announce(as_json)(None, runner)
        yield runner


@contextlib.contextmanager
def _bar(enabled: bool, text: str) -> Iterator[Callable[[int, int, int], None] | None]:
    """On a terminal, a progress bar with curves per minute and the time left; ``update(done, total, failed)``.

    Both count from the start (workers starting up included), so they do not promise too much early on."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    import datetime

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn
    from rich.progress import TimeElapsedColumn as Elapsed
    from rich.text import Text

    def per_second(task: Any) -> float | None:
        return task.completed / task.elapsed if task.completed and task.elapsed else None

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            rate = per_second(task)
            return Text("-- curves/min" if rate is None else f"{60 * rate:.1f} curves/min")

    class Left(ProgressColumn):
        def render(self, task: Any) -> Text:
            rate = per_second(task)
            if rate is None or task.total is None:
                return Text("eta -:--:--")
            return Text(f"eta {datetime.timedelta(seconds=round((task.total - task.completed) / rate))}")

    columns = (text, BarColumn(), MofNCompleteColumn(), "[red]{task.fields[failed]} failed", Rate())
    with Progress(*columns, Elapsed(), Left(), console=render._console(True)) as p:
        task = p.add_task(text, total=None, failed=0)
        yield lambda done, total, failed: p.update(task, completed=done, total=total, failed=failed)


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
    masks = split_masks(curves, split_column, x=o.x, y=o.y) if split_column else None
    engine = _runner(as_json, scheduler=scheduler, workers=workers) if scheduler else contextlib.nullcontext()
    with engine as runner, render.progress(not as_json, "backtest", bar=True) as update:
        res = run_backtest(
            data, cutoff, fit_kwargs=kw, seed=o.seed, jobs=jobs, progress=update, pool_by=pool_by, masks=masks,
            scheduler=runner,
        )  # fmt: skip
    res["failed"] += bad
    res["n_failed"] += len(bad)
    if out is not None and (res["curves"] or not res["interrupted"]):
        import pandas as pd

        rows = pd.DataFrame(res["curves"]).assign(run_status="interrupted" if res["interrupted"] else "complete")
        atomic_write(out, lambda tmp: rows.to_csv(tmp, index=False))
    if not as_json and not res["summary"] and not res["interrupted"]:
        raise CurvecastError(f"no curve had 3 distinct n below the cutoff {cutoff}; raise --cutoff")
    split = f"split by {split_column!r}" if split_column else f"cutoff {cutoff:g}"
    title = f"Backtest of {curves.name}, {split} ({o.model})"
    if as_json:
        render.emit_json(res)
    elif res["summary"]:
        render.backtest(res, title)
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
    with _bar(not as_json, "batch") as update:
        stats = run_batch(
            curves, output, at=at, targets=targets or [], prob=prob_, fit_kwargs=o.fit_kwargs(), make_curve=o.data,
            x=o.x, y=o.y, limit=limit, resume=resume, chunk_size=chunk_size, jobs=jobs, scheduler=scheduler,
            workers=workers, progress=update, on_start=_announce(as_json),
        )  # fmt: skip
    if as_json:
        render.emit_json(stats)
    else:
        _summary(stats)
    kept = stats["answered"] + stats["failed"] + stats["skipped"]
    render.interrupted(stats["interrupted"], kept, output if Path(output).exists() else None)


def _summary(s: dict[str, Any]) -> None:
    speed = f"{s['seconds']:.1f} s, {s['curves_per_minute']:.1f} curves/min"
    first = f", first answer after {s['first_answer_seconds']:.1f} s" if s["first_answer_seconds"] is not None else ""
    left = f", {s['remaining']} not done" if s["remaining"] else ""
    typer.echo(
        f"wrote {s['output']}: {s['curves']} curves, {s['answered']} answered, {s['failed']} failed, "
        f"{s['skipped']} skipped (already there){left}; {speed}{first} on {s['engine']}"
    )
