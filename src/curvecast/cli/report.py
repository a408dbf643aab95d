"""``curvecast report``: the forecast as one self-contained HTML file to share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curvecast.cli.commands import Cost, MaxN, query, wrote

if TYPE_CHECKING:
    from curvecast.results import Forecast

Output = Annotated[Path, typer.Option("-o", "--output", help="HTML file to write (.html).")]
Target = Annotated[float | None, typer.Option("--target", "-t", help="Metric value to reach.")]
AtSizes = Annotated[
    list[float] | None, typer.Option("--at", help="Size(s) n to forecast at (default: 2x and 10x the largest n).")
]
ReachProb = Annotated[float, typer.Option("--prob", "-p", help="Required probability of reaching the target.")]
Step = Annotated[
    float | None, typer.Option("--step", help="The next data to price, DN (default: 25 %-300 % of the largest n).")
]


def _check(**own: Any) -> None:
    from curvecast.answers import Question

    Question(
        own["target"], tuple(own["at"] or ()), own["prob_"], own["step"], own["cost_per_sample"], own["max_n"]
    ).check()


@query(wrote, precheck=_check, writes=(".html", ".htm"))
def report(
    f: Forecast,
    output: Output,
    target: Target = None,
    at: AtSizes = None,
    prob_: ReachProb = 0.8,
    cost_per_sample: Cost = None,
    step: Step = None,
    max_n: MaxN = None,
    *,
    where: str = "",
) -> dict[str, Any]:
    """One self-contained HTML file: answers in words, fan chart, P(reach), next data, data, model, diagnostics."""
    from curvecast.report import write_report

    write_report(
        f, output, target=target, at=at or None, prob=prob_, step=step, cost_per_sample=cost_per_sample,
        max_n=max_n, source=where,
    )  # fmt: skip
    return {"output": str(output)}
