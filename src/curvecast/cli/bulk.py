"""Commands over many curves: ``backtest`` scores forecasts of held-out points, ``batch`` answers per curve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curvecast.cli import render
from curvecast.cli.commands import At, Curves, Jobs, Limit, Prob
from curvecast.cli.options import FitOptions, Json, with_fit_options
from curvecast.errors import CurvecastError
from curvecast.outputs import atomic_write, check_output
from curvecast.results import check_query


@with_fit_options(omit=("curve",))
def backtest(
    o: FitOptions,
    curves: Curves,
    cutoff: Annotated[float, typer.Option("--cutoff", help="Fit on n <= cutoff * max n.")] = 0.1,
    out: Annotated[Path | None, typer.Option("--out", help="Per-curve results (CSV).")] = None,
    jobs: Jobs = None,
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

    if out is not None:
        check_output(out, inputs=(curves,))
    (data, bad), kw = o.curves(curves, limit), o.fit_kwargs(seed=False)
    with render.progress(not as_json, "backtest", bar=True) as update:
        masks = split_masks(curves, split_column, x=o.x, y=o.y) if split_column else None
        res = run_backtest(
            data, cutoff, fit_kwargs=kw, seed=o.seed, jobs=jobs, progress=update, pool_by=pool_by, masks=masks
        )
    res["failed"] += bad
    res["n_failed"] += len(bad)
    if out is not None and (res["curves"] or not res["interrupted"]):
        import pandas as pd

        rows = pd.DataFrame(res["curves"]).assign(run_status="interrupted" if res["interrupted"] else "complete")
        atomic_write(out, lambda tmp: rows.to_csv(tmp, index=False))
    if not as_json and not res["summary"] and not res["interrupted"]:
        raise CurvecastError(f"no curve had 3 distinct n below the cutoff {cutoff}; raise --cutoff")
    split = f"split by {split_column!r}" if split_column else f"cutoff {cutoff:g}"
    title = f"Backtest of {curves.name}, {split} ({o.family})"
    if as_json:
        render.emit_json(res)
    elif res["summary"]:
        render.backtest(res, title)
    render.interrupted(res["interrupted"], len(res["curves"]), out)


@with_fit_options(omit=("curve",))
def batch(
    o: FitOptions,
    curves: Curves,
    output: Annotated[Path, typer.Option("-o", "--output", help="Answers, one row per curve (CSV).")],
    at: At,
    targets: Annotated[list[float] | None, typer.Option("--targets", "--target", help="Target metric values.")] = None,
    prob_: Prob = 0.8,
    jobs: Jobs = None,
    limit: Limit = None,
    as_json: Json = False,
) -> None:
    """Fit every curve in a file and write one row of answers per curve."""
    import pandas as pd

    from curvecast.batch import run_batch
    from curvecast.results import check_prob

    check_prob(prob_)
    check_output(output, inputs=(curves,))
    check_query(at=at)
    (data, bad), kw = o.curves(curves, limit), o.fit_kwargs()
    with render.progress(not as_json, "batch", bar=True) as update:
        df, stats = run_batch(data, at=at, targets=targets or [], prob=prob_, fit_kwargs=kw, jobs=jobs, progress=update)
    df = pd.concat([df, pd.DataFrame(bad)], ignore_index=True) if bad else df
    stats |= {"curves": len(df), "failed": stats["failed"] + len(bad), "output": str(output)}
    if len(df):
        df = df.assign(run_status="interrupted" if stats["interrupted"] else "complete")
        atomic_write(output, lambda tmp: df.to_csv(tmp, index=False))
    if as_json:
        render.emit_json(stats)
    else:
        speed = f"{stats['seconds']:.1f} s, {stats['curves_per_minute']:.1f} curves/min"
        typer.echo(f"wrote {output}: {stats['curves']} curves ({stats['failed']} failed) in {speed}")
    render.interrupted(stats["interrupted"], len(df), output)
