"""Commands over many curves: ``backtest`` scores forecasts of held-out points, ``batch`` answers per curve.

Both run on local processes (``--jobs``) or on Dask (``--scheduler ADDRESS`` or ``--scheduler local
--workers K``); with Dask the dashboard's address is printed first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curvecast import console, tables
from curvecast.cli import render
from curvecast.cli.commands import fittable
from curvecast.cli.options import with_fit_options
from curvecast.errors import CurvecastError
from curvecast.fit_options import FitOptions
from curvecast.outputs import check_output
from curvecast.results import check_query

if TYPE_CHECKING:
    from curvecast.parallel import Runner


def _announce(as_json: bool) -> Callable[..., None]:
    def announce(runner: Runner, what: Any = None) -> None:
        if as_json:
            return
        if runner.dashboard:
            console.note(f"Dask dashboard: {runner.dashboard}")
        if what is not None:
            skipped = f", {what.skipped} already in {what.out.path} (skipped)" if what.skipped else ""
            retried = f", {what.retried} of them failed before" if what.retried else ""
            console.note(f"{what.todo} curves to answer on {runner.description}{retried}{skipped}")

    return announce


@with_fit_options(omit=("curve",))
def backtest(
    o: FitOptions, curves: Path, cutoff: float | None = None, out: Path | None = None, jobs: int | None = None,
    scheduler: str | None = None, workers: int | None = None, limit: int | None = None, pool_by: str | None = None,
    split_column: str | None = None, as_json: bool = False,
) -> None:  # fmt: skip
    """Fit the early part of every curve (or the rows --split-column marks) and score the forecasts of the rest."""
    from curvecast.backtest import run_backtest
    from curvecast.data import split_masks
    from curvecast.parallel import check_runner_options

    check_runner_options(jobs=jobs, scheduler=scheduler, workers=workers)
    if split_column and cutoff is not None:
        raise CurvecastError(f"--split-column {split_column} decides which rows to fit on; drop --cutoff")
    cutoff = 0.1 if cutoff is None else cutoff
    if out is not None:
        check_output(out, inputs=(curves,))
    (data, bad), kw = fittable(o, curves, limit), o.fit_kwargs(seed=False)
    masks = split_masks(curves, split_column, x=o.x, y=o.y, curve_by=o.curve_by) if split_column else None
    with console.progress(not as_json, "backtest", bar=True) as update:
        res = run_backtest(
            data, cutoff, fit_kwargs=kw, seed=o.seed, jobs=jobs, progress=update, pool_by=pool_by, masks=masks,
            scheduler=scheduler, workers=workers, on_start=_announce(as_json), unfit=bad, out=out,
        )  # fmt: skip
    if not as_json and not res["summary"] and not res["interrupted"]:
        raise CurvecastError(f"no curve had 3 distinct n below the cutoff {cutoff}; raise --cutoff")
    split = f"split by {split_column!r}" if split_column else f"cutoff {cutoff:g}"
    if as_json:
        render.emit_json(res)
    elif res["summary"]:
        console.show(tables.backtest(res, f"Backtest of {curves.name}, {split} ({o.model})"))
    render.interrupted(res["interrupted"], len(res["curves"]), out)


@with_fit_options(omit=("curve",))
def batch(
    o: FitOptions, curves: Path, output: Path, at: list[float], targets: list[float] | None = None, prob: float = 0.8,
    jobs: int | None = None, scheduler: str | None = None, workers: int | None = None, resume: bool = False,
    chunk_size: int = 64, limit: int | None = None, as_json: bool = False,
) -> None:  # fmt: skip
    """Fit every curve in a file and write one row of answers per curve, as each finishes."""
    from curvecast.batch import run_batch

    check_output(output, inputs=(curves,))
    check_query(at=at, prob=prob)
    with console.progress(not as_json, "batch", bar=True) as update:
        stats = run_batch(
            curves, output, at=at, targets=targets or [], prob=prob, fit_kwargs=o.fit_kwargs(), meta=o.meta(),
            read=o.read_kwargs(), limit=limit, resume=resume, chunk_size=chunk_size, jobs=jobs, scheduler=scheduler,
            workers=workers, progress=update, on_start=_announce(as_json),
        )  # fmt: skip
    render.emit_json(stats) if as_json else console.show(tables.batch(stats))
    kept = stats["answered"] + stats["failed"] + stats["skipped"]
    render.interrupted(stats["interrupted"], kept, output if Path(output).exists() else None)
