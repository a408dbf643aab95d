"""``curvecast report``: the forecast as one self-contained HTML file to share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curvecast.cli import render, tracking
from curvecast.cli.commands import Cost, MaxN, Source, Strict, forecast
from curvecast.cli.options import FitOptions, with_fit_options
from curvecast.outputs import check_output

Output = Annotated[Path, typer.Option("-o", "--output", help="HTML file to write (.html).")]
Target = Annotated[float | None, typer.Option("--target", "-t", help="Metric value to reach.")]
AtSizes = Annotated[
    list[float] | None, typer.Option("--at", help="Size(s) n to forecast at (default: 2x and 10x the largest n).")
]
ReachProb = Annotated[float, typer.Option("--prob", "-p", help="Required probability of reaching the target.")]
Step = Annotated[
    float | None, typer.Option("--step", help="The next data to price, DN (default: 25 %-300 % of the largest n).")
]


@with_fit_options()
def report(
    o: FitOptions,
    source: Source,
    output: Output,
    target: Target = None,
    at: AtSizes = None,
    prob_: ReachProb = 0.8,
    cost_per_sample: Cost = None,
    step: Step = None,
    max_n: MaxN = None,
    log_to_mlflow: tracking.LogToMlflow = False,
    strict: Strict = False,
) -> None:
    """One self-contained HTML file: answers in words, fan chart, P(reach), next data, data, model, diagnostics."""
    from curvecast.answers import Question
    from curvecast.report import write_report

    check_output(output, inputs=(source,), suffixes=(".html", ".htm"))
    q = Question(target, tuple(at or ()), prob_, step, cost_per_sample, max_n).check()
    experiment = tracking.destination(source) if log_to_mlflow else None  # checked before sampling
    f = forecast(source, o, False, lambda d: None if target is None else d.check_target(target))
    write_report(
        f, output, target=target, at=q.at or None, prob=prob_, step=step, cost_per_sample=cost_per_sample,
        max_n=max_n, source=tracking.describe(source, o),
    )  # fmt: skip
    typer.echo(f"wrote {output}")
    if experiment is not None:
        own = {"target": target, "at": at, "prob_": prob_, "step": step, "cost_per_sample": cost_per_sample}
        own["max_n"] = max_n
        tracking.log(f, experiment, source, o, own)
    render.check_diagnostics(f.diagnostics, strict, False)
