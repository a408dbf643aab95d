"""Every flag's name and help, declared once in :data:`OPTIONS`; the fitting flags as one library ``FitOptions``.

A command is a plain function (``def prob(f, target: float, at: list[float], measured: bool = False)``);
:func:`typed` gives each parameter its flags and help from ``OPTIONS`` by name, so one flag means the
same in every command, and :func:`with_fit_options` puts in ``FitOptions``' fields, shown in their own panel.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Annotated, Any, get_type_hints

import typer

from curvecast.fit_options import FitOptions, flag

ENGINE = ("jobs", "scheduler", "workers")  # shown under "Where it runs"
FIT_FIELDS = {f.name: f for f in fields(FitOptions)}  # flags --name-with-dashes, help from the library
SHORT = {"family": ("-f",)}
FILE = "File to write"

#: parameter name (or ``command.name``, a command's own sense of it) -> (flags, help); no flag: an argument.
#: FitOptions' fields take theirs from the library (:func:`fit_option`) unless a command gives its own.
OPTIONS: dict[str, tuple[str, str]] = {
    "source": ("", "Data file (CSV, TSV, JSON lines), saved fit (.nc) or mlflow:EXPERIMENT."),
    "data": ("", "Data file (CSV, TSV or JSON lines) or mlflow:EXPERIMENT."),
    "curves": ("", "Long file of curves (curve, n, metric[, seed]) or mlflow:EXPERIMENT."),
    "fit_path": ("", "A saved fit (.nc) of an earlier project."),
    "sources": ("", "A and B: two data files, two saved fits (.nc), or one file with --curve twice."),
    "compare.curve": ("--curve", "Curve of A, then of B (twice; or once per data file)."),
    "priors_compare.priors": ("--priors", "Prior file (repeat); 'default' = built-in."),
    "as_json": ("--json", "Write one JSON object on stdout and nothing else."),
    "strict": ("--strict", "Exit with code 3 when diagnostics fail."),
    "log_to_mlflow": (
        "--log-to-mlflow",
        "Log the forecast to MLflow as a run of its own (in the mlflow: source's "
        "experiment, else $MLFLOW_EXPERIMENT_NAME): answers as metrics, fan chart, fit and report as "
        "artifacts.",
    ),
    "target": ("--target -t", "Metric value to reach."),
    "plot.target": ("--target -t", "Target line and P(reach) panel."),
    "compare.target": ("--target -t", "Which reaches it with less data?"),
    "priors_compare.target": ("--target -t", "Target for P(reach) and n needed."),
    "targets": ("--targets --target", "Target metric values."),
    "at": ("--at", "Training-set size(s) n."),
    "report.at": ("--at", "Size(s) n to forecast at (default: 2x and 10x the largest n)."),
    "compare.at": ("--at", "Sizes n to compare at (repeat)."),
    "priors_compare.at": ("--at", "n at which to compare the bands."),
    "next_run.at": ("--at", "Ask: is TARGET reached at this n? (else: n needed)"),
    "prob": ("--prob -p", "Required probability of reaching the target."),
    "next_run.prob": ("--prob -p", "Ask: n needed with this probability (0.8)."),
    "measured": ("--measured", "Include evaluation noise (a new measurement)."),
    "interval": ("--interval", "Central interval mass."),
    "step": ("--step", "Extra samples DN."),
    "report.step": ("--step", "The next data to price, DN (default: 25 %-300 % of the largest n)."),
    "from_n": ("--from", "Start n (default: largest observed)."),
    "cost_per_sample": ("--cost-per-sample", "Cost of one more sample (costs are linear)."),
    "fixed_cost": ("--fixed-cost", "Fixed cost of one training run."),
    "max_n": ("--max-n", "Right end of the plots' x axis."),
    "compare.max_n": ("--max-n", "Look for a crossing up to this n (10 x the data)."),
    "confidence": ("--confidence", "A question is decided at this confidence."),
    "within": ("--within", "n needed is decided when known within this factor."),
    "candidates": ("--candidates", "Sizes to consider: n1,n2,... (total n)."),
    "method": ("--method", "auto, weights (reweight draws) or refit (brute force)."),
    "outcomes": ("--outcomes", "Simulated results per size (200 / 5 refits)."),
    "output": ("-o --output", f"{FILE}."),
    "fit.output": ("-o --output", "Fit file (.nc); --pool: OUTPUT-STEM.CURVE.nc."),
    "plot.output": ("-o --output", "Image file (.png or .svg)."),
    "report.output": ("-o --output", "HTML file to write (.html)."),
    "compare.output": ("-o --output", "Overlay plot of both fans (.png or .svg)."),
    "priors_compare.output": ("-o --output", "Faceted plot (.png or .svg)."),
    "priors_derive.output": ("-o --output", f"{FILE} (.toml, e.g. models/coco.toml)."),
    "priors_default.output": ("-o --output", f"{FILE} (.toml; default: stdout)."),
    "batch.output": ("-o --output", "Answers, one row per curve: Parquet (.parquet) or CSV."),
    "pool": ("--pool", "Fit every curve jointly with partial pooling."),
    "widen": ("--widen", "Widening factor for the marginals (1 to 100)."),
    "keep_level": ("--keep-level", "Also transfer y_ref and room."),
    "cutoff": ("--cutoff", "Fit on n <= cutoff * max n (default 0.1; not with --split-column)."),
    "out": ("--out", "Per-curve results (CSV)."),
    "pool_by": ("--pool-by", "Pool curves: 'all' or a regex whose group 1 is the group."),
    "split_column": ("--split-column", "Column marking rows to fit on (1) and hold out (0)."),
    "limit": ("--limit", "Only the first N curves."),
    "resume": ("--resume", "Keep the curves already in the output; answer only the others."),
    "chunk_size": ("--chunk-size", "Curves read and in flight at once (memory grows with it)."),
    "jobs": ("--jobs", "Local processes (default: all cores)."),
    "scheduler": (
        "--scheduler",
        "Run on Dask: a scheduler address (tcp://host:8786), or 'local' to start a "
        "LocalCluster. Needs curvecast[dask].",
    ),
    "workers": ("--workers", "Processes of --scheduler local (default: all cores)."),
}


def _declared(command: str, p: inspect.Parameter) -> Any:
    entry = OPTIONS.get(f"{command}.{p.name}") or OPTIONS.get(p.name) or fit_option(p.name)
    if entry is None:
        raise TypeError(f"{command}: parameter {p.name!r} has no entry in OPTIONS (its flags and help)")
    flags, text = entry
    if not flags:
        return Annotated[p.annotation, typer.Argument(help=text)]
    fitting = p.name in FIT_FIELDS
    panel = "Fitting options" if fitting else "Where it runs" if p.name in ENGINE else None
    return Annotated[p.annotation, typer.Option(*flags.split(), help=text, rich_help_panel=panel)]


def fit_option(name: str) -> tuple[str, str] | None:
    """A FitOptions field's flags (``--name-with-dashes`` and a short one) and help (the field's own)."""
    f = FIT_FIELDS.get(name)
    return None if f is None else (" ".join((flag(name), *SHORT.get(name, ()))), f.metadata["help"])


def typed(cmd: Callable[..., Any]) -> Callable[..., Any]:
    """``cmd`` with each parameter's flags and help from :data:`OPTIONS` (Typer reads ``__signature__``)."""
    sig = inspect.signature(cmd, eval_str=True)
    params = [p.replace(annotation=_declared(cmd.__name__, p)) for p in sig.parameters.values()]
    cmd.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    cmd.__annotations__ = {p.name: p.annotation for p in params} | {"return": sig.return_annotation}
    return cmd


def with_fit_options(*, omit: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """Put FitOptions' fields (``only`` some, or all but ``omit``) in as options; the command gets one ``o``."""
    hints, kind = get_type_hints(FitOptions), inspect.Parameter.KEYWORD_ONLY
    picked = [f for f in fields(FitOptions) if f.name not in omit and (not only or f.name in only)]
    added = [inspect.Parameter(f.name, kind, default=f.default, annotation=hints[f.name]) for f in picked]

    def decorate(cmd: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(cmd, eval_str=True)
        own = [p.replace(kind=kind) for name, p in sig.parameters.items() if name != "o"]
        if "o" not in sig.parameters or {p.name for p in own} & {p.name for p in added}:
            raise TypeError(f"{cmd.__name__} needs a parameter 'o' and no other named like a FitOptions field")

        @functools.wraps(cmd)
        def command(**kwargs: Any) -> Any:
            return cmd(FitOptions(**{p.name: kwargs.pop(p.name) for p in added}), **kwargs)

        command.__signature__ = sig.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        return command

    return decorate
