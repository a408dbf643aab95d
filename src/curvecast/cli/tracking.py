"""``--log-to-mlflow``: the forecast of a command logged to MLflow as a run of its own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from curvecast.cli.options import FitOptions
    from curvecast.results import Forecast

LogToMlflow = Annotated[
    bool,
    typer.Option(
        "--log-to-mlflow",
        help="Log the forecast to MLflow as a run of its own (in the mlflow: source's experiment, "
        "else $MLFLOW_EXPERIMENT_NAME): answers as metrics, fan chart, fit and report as artifacts.",
    ),
]


def destination(source: Path) -> str:
    """The experiment a forecast of ``source`` is logged to; checked before any sampling."""
    from curvecast import tracking
    from curvecast.tracking_log import destination as named

    tracking.import_mlflow()  # without MLflow: the pip command, before any work
    return named(tracking.experiment_name(source) if tracking.is_source(source) else None)


def describe(source: Path, o: FitOptions) -> str:
    """Where the data came from, in one line (``mlflow:EXP (params.x -> metrics.y, one curve per ...)``)."""
    from curvecast import tracking

    if not tracking.is_source(source):
        return str(source)
    by = f", one curve per {o.curve_by}" if o.curve_by else ""
    return f"{source} ({o.x} -> {o.y}{by})"


#: a command's own options -> the question a logged forecast answers (``curvecast.answers.Question``)
QUESTION = {"target": "target", "at": "at", "prob_": "prob", "step": "step", "cost_per_sample": "cost_per_sample"}
QUESTION |= {"max_n": "max_n"}


def log(f: Forecast, experiment: str, source: Path, o: FitOptions, own: dict[str, Any]) -> str:
    """Log ``f``'s answers to the question in a command's options ``own``; returns the run id."""
    from curvecast.tracking_log import log_forecast

    q = {QUESTION[k]: v for k, v in own.items() if k in QUESTION and v is not None}
    run_id = log_forecast(f, experiment, tracking_uri=o.tracking_uri, source=describe(source, o), **q)
    typer.echo(f"logged the forecast to MLflow experiment {experiment!r}: run {run_id}", err=True)
    return run_id
