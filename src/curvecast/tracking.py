"""Learning curves read from an MLflow experiment (the ``mlflow:EXPERIMENT`` source).

Each *finished* run of the experiment is one point of a curve: its training-set
size (``x``, e.g. ``params.train_size``) and its metric (``y``, e.g.
``metrics.val_map``, the metric's latest logged value, the one the MLflow UI
shows). Runs at the same size are replicates and are kept as separate points.
``curve_by`` (e.g. ``params.backbone``) splits the runs into one curve per value.

A run that is not finished, or lacks one of the columns, or holds a value that is
not a number there, is skipped and counted (:attr:`RunCurves.skipped`); forecast
runs logged by curvecast itself (tag ``curvecast.forecast``) are left out. An
unknown experiment or column is a :class:`~curvecast.errors.CurvecastError` that
lists what exists.

The tracking URI is the one given, else ``MLFLOW_TRACKING_URI``, else MLflow's own
default (``mlflow.get_tracking_uri()``). MLflow is an optional dependency:
``pip install "curvecast[mlflow]"``.

This module imports nothing from curvecast but its errors, so that the data readers
(``curvecast.data``) can hand ``mlflow:`` sources to it.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.errors import CurvecastError

#: a data source naming an MLflow experiment: ``mlflow:EXPERIMENT`` (a name, or an id)
PREFIX = "mlflow:"
#: the exact command that installs the optional dependency
PIP_HINT = 'pip install "curvecast[mlflow]"'
#: the tag that marks a run as a curvecast forecast (such runs are never read as data)
FORECAST_TAG = "curvecast.forecast"
#: the kinds of run columns, as MLflow's search syntax names them
KINDS = ("params", "metrics", "tags")
#: how long a tracking server gets to answer the first request, in seconds
PROBE_TIMEOUT = 10.0


def is_source(source: Any) -> bool:
    """True when ``source`` names an MLflow experiment (``mlflow:EXPERIMENT``)."""
    return str(source).startswith(PREFIX)


def experiment_name(source: Any) -> str:
    """``EXPERIMENT`` of ``mlflow:EXPERIMENT`` (a bare name is returned as it is)."""
    text = str(source)
    name = text[len(PREFIX) :] if is_source(text) else text
    if not name.strip():
        raise CurvecastError("the mlflow: source names no experiment; write mlflow:EXPERIMENT (a name or an id)")
    return name


def describe(source: Any, x: str | None = None, y: str | None = None, curve_by: str | None = None) -> str:
    """Where data came from, in one line: a path, or ``mlflow:EXP (params.x -> metrics.y, one curve per ...)``."""
    if not is_source(source):
        return str(source)
    return f"{source} ({x} -> {y}" + (f", one curve per {curve_by})" if curve_by else ")")


def import_mlflow() -> Any:
    """The ``mlflow`` module, or a CurvecastError that says which pip command installs it."""
    try:
        import mlflow
    except ImportError:
        raise CurvecastError(
            f"reading or logging MLflow runs needs MLflow, which is not installed; run: {PIP_HINT}"
        ) from None
    return mlflow


def resolve_uri(given: str | None = None) -> str:
    """``given``, else ``MLFLOW_TRACKING_URI``, else MLflow's own default tracking URI."""
    if given:
        return given
    return str(import_mlflow().get_tracking_uri())


def _local_store(uri: str) -> tuple[str, Path] | None:
    """``(kind, path)`` of a store on this machine: ``("file", dir)`` or ``("sqlite", db)``; None otherwise."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "sqlite":
        rest = uri[len("sqlite:///") :] if uri.startswith("sqlite:///") else ""
        return ("sqlite", Path(rest)) if rest and rest != ":memory:" else None
    if parsed.scheme == "file":
        return "file", Path(urllib.request.url2pathname(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):  # a plain path is a file store
        return "file", Path(uri)
    return None


def check_store(uri: str, *, reading: bool) -> None:
    """Refuse, quickly and clearly, a store that cannot answer: a local store that does not exist
    (when reading: MLflow would create an empty one) or a server that does not respond.

    MLflow's client retries a refused connection for minutes; one plain HTTP request first
    turns that into an immediate error."""
    local = _local_store(uri)
    if local is not None:
        kind, path = local
        exists = path.is_dir() if kind == "file" else path.is_file()
        if reading and not exists:
            what = "directory" if kind == "file" else "database file"
            raise CurvecastError(
                f"no MLflow store at {uri} (the {what} {str(path)!r} does not exist); "
                "pass --tracking-uri (or set MLFLOW_TRACKING_URI) to the store or server that holds the runs"
            )
        return
    if urllib.parse.urlparse(uri).scheme not in ("http", "https"):
        return  # databricks, a plugin's scheme, ...: left to MLflow
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=PROBE_TIMEOUT):
            pass
    except urllib.error.HTTPError:
        pass  # it answered: a server is there (it may not have /health)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise CurvecastError(
            f"cannot reach the MLflow tracking server at {uri} ({reason}); start it "
            "(mlflow server ...) or pass --tracking-uri (or set MLFLOW_TRACKING_URI)"
        ) from None


@contextlib.contextmanager
def client(uri: str, *, reading: bool) -> Iterator[Any]:
    """An ``MlflowClient`` on ``uri``; MLflow's errors become CurvecastErrors and what it prints goes to stderr.

    A file store (``file:``, a plain path) is opened as asked: MLflow 3 wants
    ``MLFLOW_ALLOW_FILE_STORE=true`` for it, which is set for the duration of the call."""
    mlflow = import_mlflow()
    check_store(uri, reading=reading)
    local = _local_store(uri)
    allow = local is not None and local[0] == "file" and "MLFLOW_ALLOW_FILE_STORE" not in os.environ
    if allow:
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        with contextlib.redirect_stdout(sys.stderr):  # "View run at ..." lines: never on stdout (--json)
            yield mlflow.MlflowClient(tracking_uri=uri)
    except mlflow.exceptions.MlflowException as e:
        raise CurvecastError(f"MLflow at {uri}: {_first_line(e.message)}") from None
    finally:
        if allow:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)


def _first_line(text: Any) -> str:
    lines = str(text).strip().splitlines()
    return lines[0][:300] if lines else "unknown error"


def find_experiment(c: Any, name: str, uri: str) -> Any:
    """The experiment named ``name`` (or with id ``name``); else an error listing the experiments."""
    exp = c.get_experiment_by_name(name)
    if exp is None and name.isdigit():
        with contextlib.suppress(Exception):
            exp = c.get_experiment(name)
    if exp is None:
        names = sorted(e.name for e in c.search_experiments(max_results=200))
        shown = ", ".join(repr(n) for n in names[:30]) + (f", ... ({len(names)} in all)" if len(names) > 30 else "")
        raise CurvecastError(f"no MLflow experiment {name!r} at {uri}; experiments: {shown or 'none'}")
    if exp.lifecycle_stage != "active":
        raise CurvecastError(f"MLflow experiment {name!r} at {uri} is deleted; restore it (mlflow experiments restore)")
    return exp


def _all_runs(c: Any, experiment_id: str) -> list[Any]:
    runs, token = [], None
    while True:
        page = c.search_runs([experiment_id], max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def _columns(run: Any) -> dict[str, Any]:
    """A run as ``{"params.k": v, "metrics.k": v, "tags.k": v}`` (MLflow's own ``mlflow.*`` tags left out)."""
    d = run.data
    out: dict[str, Any] = {f"params.{k}": v for k, v in d.params.items()}
    out |= {f"metrics.{k}": v for k, v in d.metrics.items()}
    return out | {f"tags.{k}": v for k, v in d.tags.items() if not k.startswith("mlflow.")}


def _listing(columns: set[str]) -> str:
    parts = []
    for kind in KINDS:
        names = sorted(c.split(".", 1)[1] for c in columns if c.startswith(kind + "."))
        if names:
            parts.append(f"{kind}: " + ", ".join(names[:40]) + (" ..." if len(names) > 40 else ""))
    return "; ".join(parts) or "none"


def resolve_column(given: str, columns: set[str], flag: str, experiment: str) -> str:
    """``params.x``/``metrics.x``/``tags.x`` as given, or a bare ``x`` when exactly one kind holds it."""
    if given in columns:
        return given
    kind, _, bare = given.partition(".")
    if kind not in KINDS or not bare:
        found = [f"{k}.{given}" for k in KINDS if f"{k}.{given}" in columns]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise CurvecastError(f"{flag} {given!r} is ambiguous: {' and '.join(found)} both exist; name one")
    raise CurvecastError(
        f"no finished run of MLflow experiment {experiment!r} has {flag} {given!r}; "
        f"columns ({flag} takes e.g. params.NAME or metrics.NAME): {_listing(columns)}"
    )


def _number(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


class RunCurves(dict[str, tuple[np.ndarray, np.ndarray]]):
    """``{curve name: (n, y)}`` read from an experiment's finished runs (sorted by n), like
    :func:`curvecast.load_curves`, and what was read: ``experiment``, ``experiment_id``,
    ``tracking_uri``, ``columns`` (``x``, ``y``, ``curve_by``), ``runs_used``, ``run_ids``
    (``{curve: [run id per point]}``) and ``skipped`` (``{reason: number of runs}``);
    ``x_column`` and ``y_column`` are the columns' bare names (``train_size``, ``val_map``)."""

    experiment: str
    experiment_id: str
    tracking_uri: str
    columns: dict[str, str | None]
    runs_used: int
    run_ids: dict[str, list[str]]
    skipped: dict[str, int]

    @property
    def x_column(self) -> str:
        return str(self.columns["x"]).split(".", 1)[-1]

    @property
    def y_column(self) -> str:
        return str(self.columns["y"]).split(".", 1)[-1]

    @property
    def source(self) -> str:
        """``mlflow:EXPERIMENT`` with the columns read, in words."""
        c = self.columns
        return f"{describe(PREFIX + self.experiment, c['x'], c['y'], c.get('curve_by'))} at {self.tracking_uri}"

    @property
    def note(self) -> str:
        """One line: runs used, curves, and the runs skipped with the reason."""
        text = f"{self.source}: {self.runs_used} finished runs in {len(self)} curve(s)"
        n_skipped = sum(self.skipped.values())
        if n_skipped:
            why = ", ".join(f"{k} {v}" for k, v in self.skipped.items())
            text += f"; skipped {n_skipped} run(s) ({why})"
        return text


def from_mlflow(
    experiment: str,
    *,
    x: str | None = None,
    y: str | None = None,
    curve_by: str | None = None,
    tracking_uri: str | None = None,
) -> RunCurves:
    """Learning curves from the finished runs of an MLflow experiment.

    Parameters
    ----------
    experiment : str
        The experiment's name (or id); ``mlflow:NAME`` is accepted too.
    x, y : str
        The run columns holding the training-set size and the metric, as MLflow's
        search syntax names them (``params.train_size``, ``metrics.val_map``); a bare
        name is found when exactly one of params, metrics and tags holds it.
    curve_by : str, optional
        A column whose value names each run's curve (``params.backbone``); without it
        every run belongs to one curve, named after the experiment.
    tracking_uri : str, optional
        Default: ``MLFLOW_TRACKING_URI``, else MLflow's default.

    Returns
    -------
    RunCurves
        ``{curve: (n, y)}`` with the runs' counts; replicates (runs at one size) are kept.
    """
    name = experiment_name(experiment)
    uri = resolve_uri(tracking_uri)
    with client(uri, reading=True) as c:
        exp = find_experiment(c, name, uri)
        runs = _all_runs(c, exp.experiment_id)
    name = str(exp.name)  # an id given: the curve is named after the experiment
    runs = [r for r in runs if r.data.tags.get(FORECAST_TAG) is None]
    finished = [r for r in runs if r.info.status == "FINISHED"]
    skipped: dict[str, int] = {}
    if len(finished) < len(runs):
        skipped["not finished"] = len(runs) - len(finished)
    rows = [(r.info.run_id, _columns(r)) for r in finished]
    columns: set[str] = set().union(*(cols for _, cols in rows)) if rows else set()
    if not finished:
        states = sorted({r.info.status for r in runs})
        raise CurvecastError(
            f"MLflow experiment {name!r} has no finished runs"
            + (f" ({len(runs)} runs: {', '.join(states)})" if runs else " (it holds no runs)")
        )
    if x is None or y is None:
        raise CurvecastError(
            f"an mlflow: source needs --x and --y naming run columns (e.g. --x params.train_size "
            f"--y metrics.val_map); experiment {name!r} has {_listing(columns)}"
        )
    xc = resolve_column(x, columns, "--x", name)
    yc = resolve_column(y, columns, "--y", name)
    bc = None if curve_by is None else resolve_column(curve_by, columns, "--curve-by", name)
    if xc == yc:
        raise CurvecastError(f"--x and --y both name {xc!r}; pick two different columns")
    points: dict[str, list[tuple[float, float, str]]] = {}
    for run_id, cols in rows:
        lacking = next((col for col in (xc, yc, bc) if col is not None and col not in cols), None)
        if lacking is not None:
            skipped[f"without {lacking}"] = skipped.get(f"without {lacking}", 0) + 1
            continue
        nx, ny = _number(cols[xc]), _number(cols[yc])
        if nx is None or ny is None:
            bad = xc if nx is None else yc
            skipped[f"{bad} not a number"] = skipped.get(f"{bad} not a number", 0) + 1
            continue
        points.setdefault(name if bc is None else str(cols[bc]), []).append((nx, ny, run_id))
    if not points:
        why = ", ".join(f"{k} {v}" for k, v in skipped.items())
        raise CurvecastError(f"no finished run of MLflow experiment {name!r} can be used ({why})")
    out = RunCurves()
    for curve, pts in points.items():
        pts.sort(key=lambda p: p[0])
        out[curve] = (np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
    out.experiment, out.experiment_id, out.tracking_uri = name, str(exp.experiment_id), uri
    out.columns = {"x": xc, "y": yc, "curve_by": bc}
    out.runs_used = sum(len(p) for p in points.values())
    out.run_ids = {k: [p[2] for p in pts] for k, pts in points.items()}
    out.skipped = skipped
    return out
