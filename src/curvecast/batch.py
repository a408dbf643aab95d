"""Bulk forecasts (``curvecast batch``): one row of answers per curve, streamed and resumable.

A :class:`Batch` reads its curves file in chunks (:mod:`curvecast.curve_stream`), hands the curves to
a runner (:mod:`curvecast.parallel`: this process, local processes, or Dask) with at most
``chunk_size`` of them in flight, and appends each answer to the output as it finishes
(:mod:`curvecast.answer_file`). Memory stays flat whatever the file size. A curve that cannot be
fitted (fewer than 3 sizes, a sampler error, a worker that died) gets a row with its error and never
stops the run. With ``resume`` the curves already answered in the output are skipped, and those whose
row holds an error are tried again. Ctrl-C keeps what has
finished, marked ``run_status = interrupted``; a run that ends marks every row ``complete``.

Every curve is fitted with the same settings and seed wherever it runs, so its answers do not
depend on the engine or on the number of workers.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.answer_file import COMPLETE, INTERRUPTED, AnswerFile
from curvecast.curve_stream import CurveFile
from curvecast.data import CurveData, Curves
from curvecast.errors import CurvecastError
from curvecast.inference import fit
from curvecast.parallel import InProcess, Runner, WorkerDied, check_runner_options, open_runner

#: curves in flight at once, by default
DEFAULT_CHUNK = 64
#: ``progress(done, total, failed)``
Progress = Callable[[int, int, int], None]


def answer_columns(at: Sequence[float], targets: Sequence[float], prob: float) -> dict[str, str]:
    """The columns of a batch's output, in order, with their kind (``str``, ``float``, ``int``, ``bool``)."""
    cols = {"curve": "str", "family": "str", "n_points": "int", "n_max": "float"}
    for n in at:
        cols |= {f"median@{n:.0f}": "float", f"q5@{n:.0f}": "float", f"q95@{n:.0f}": "float"}
    for t in targets:
        cols |= {f"p_reach_{t:g}@{n:.0f}": "float" for n in at}
        cols |= {f"n_needed_{t:g}_p{prob:g}": "float", f"p_never_{t:g}": "float"}
    cols |= {"divergences": "int", "rhat_max": "float", "ess_bulk_min": "float", "ess_tail_min": "float"}
    cols |= {"diagnostics_ok": "bool", "problems": "str"}  # problems: what failed, model checks included
    cols |= {"notes": "str"}  # how the data were read (percentages, ...)
    return cols | {"seconds": "float", "error": "str", "settings": "str"}


def settings_of(fit_kwargs: dict[str, Any], meta: dict[str, Any], source: str | Path | None = None) -> str:
    """What a batch's numbers depend on beside its questions, in one line written in every row (and
    checked by ``resume``): the data file's name, the version, the model and sampler settings, the prior
    file's content, the metric's direction (which way ``p_reach`` looks) and bounds."""
    from curvecast import __version__

    kw = {k: v for k, v in sorted(fit_kwargs.items()) if k not in ("priors", "cores")}
    priors = fit_kwargs.get("priors")
    if isinstance(priors, str | Path):
        path = Path(priors)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "missing"
        kw["priors"] = f"{path.name}@{digest}"
    elif priors:
        kw["priors"] = "given"
    direction = "increasing (p_reach: P(metric >= target))"
    if not meta.get("increasing", True):
        direction = "decreasing (p_reach: P(metric <= target))"
    lo, hi = meta.get("metric_min"), meta.get("metric_max")
    bounds = "bounds inferred" if lo is None and hi is None else f"bounds [{lo}, {hi}] (None: inferred)"
    data = [] if source is None else [f"data {str(source) if str(source).startswith('mlflow:') else Path(source).name}"]
    return "; ".join([*data, f"curvecast {__version__}", *(f"{k}={v}" for k, v in kw.items()), direction, bounds])


def build_curve(
    name: str, n: np.ndarray, y: np.ndarray, meta: dict[str, Any], notes: tuple[str, ...] = ()
) -> CurveData:
    """One curve of a batch with its direction, bounds and units (``meta``: :meth:`Curves.curve`'s keywords),
    and the notes on how it was read."""
    return Curves({name: (n, y)}).curve(name, **meta).with_notes(*notes)


def answer_curve(
    data: CurveData, *, at: list[float], targets: list[float], prob: float, fit_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Fit one curve and return its row: bands at ``at``, P(reach) and n needed per target."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit(data=data, **fit_kwargs)
    row: dict[str, Any] = {"curve": data.name, "family": f.label, "n_points": int(data.n.size), "n_max": data.n_ref}
    notes = list(f.data.notes)  # how the data were read, and what the fit said of the prior file
    pred = f.predict(at, interval=0.9)
    for r in pred.itertuples():
        key = f"{r.n:.0f}"
        row[f"median@{key}"] = r.median
        row[f"q5@{key}"] = r.lower
        row[f"q95@{key}"] = r.upper
    for t in targets:
        for n_i, p in zip(at, f.prob(t, at), strict=True):
            row[f"p_reach_{t:g}@{n_i:.0f}"] = float(p)
        need = f.need(t, prob=prob)
        row[f"n_needed_{t:g}_p{prob:g}"] = need["n_needed"]
        row[f"p_never_{t:g}"] = need["p_never"]
        notes += [f"target {t:g}: {need['note']}"] if "note" in need else []
    d = f.diagnostics
    row.update(
        divergences=d.divergences,
        rhat_max=d.rhat_max,
        ess_bulk_min=d.ess_bulk_min,
        ess_tail_min=d.ess_tail_min,
        diagnostics_ok=d.ok,
        problems="; ".join(d.problems),
        notes="; ".join(notes),
        seconds=time.perf_counter() - t0,
    )
    return row


def answer_task(task: tuple[CurveData, dict[str, Any]]) -> dict[str, Any]:
    """One curve's row, wherever it runs; an error (bad data, the sampler failed) is a row too."""
    data, kw = task
    t0 = time.perf_counter()
    try:
        return answer_curve(data, **kw)
    except CurvecastError as e:
        return {"curve": data.name, "error": str(e), "seconds": time.perf_counter() - t0}
    except Exception as e:  # a sampler crash must not stop the other curves
        return {"curve": data.name, "error": f"{type(e).__name__}: {e}", "seconds": time.perf_counter() - t0}


class Batch:
    """A batch planned and checked before any work: the curves, the output, what is left to do.

    Parameters
    ----------
    source : path
        Long file of curves (CSV, TSV or JSON lines, compressed or not: ``curve, n, metric``).
    output : path
        Answers, Parquet (``.parquet``) or CSV (otherwise), one row per curve.
    at, targets, prob
        Sizes for the bands and P(reach), target metric values, and the probability for n needed.
    fit_kwargs : dict
        Keyword arguments of :func:`curvecast.fit` (family, priors, draws, chains, seed, ...).
    meta : dict
        The curves' direction, bounds and units (``increasing``, ``metric_min``, ``metric_max``,
        ``x_unit``, ``y_unit``; as :meth:`curvecast.data.Curves.curve`); default: increasing, bounds inferred.
    read : dict
        How to read ``source``: ``x``, ``y``, ``curve_by``, ``tracking_uri`` (as :func:`curvecast.load_curves`).
    resume : bool
        Keep the curves already answered in ``output`` and do the others, those that failed included;
        refused when ``output`` was written with other questions or other settings (:func:`settings_of`).
    chunk_size : int
        Curves in flight at once; curves are read from the file as slots free up.
    """

    def __init__(
        self,
        source: str | Path,
        output: str | Path,
        *,
        at: Sequence[float],
        targets: Sequence[float] = (),
        prob: float = 0.8,
        fit_kwargs: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        read: dict[str, Any] | None = None,
        limit: int | None = None,
        resume: bool = False,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        if not at:
            raise CurvecastError("pass at least one --at N")
        if chunk_size < 1:
            raise CurvecastError(f"--chunk-size must be at least 1, got {chunk_size}")
        self.at, self.targets, self.prob = [float(v) for v in at], [float(t) for t in targets], float(prob)
        self.fit_kwargs, self.chunk_size = dict(fit_kwargs or {}), chunk_size
        self.meta = dict(meta or {})
        self.curves = CurveFile(source, **(read or {}))
        self.names = self.curves.scan(limit=limit, check=self._check)
        cols = answer_columns(self.at, self.targets, self.prob)
        self.out = AnswerFile(output, cols, resume=resume, settings=settings_of(self.fit_kwargs, self.meta, source))
        #: curves whose earlier row held an error: taken out of the output, answered again
        self.retried = self.out.retry_failed(self.names) if resume else 0
        self.skipped = sum(name in self.out for name in self.names)

    def _check(self, name: str, n: np.ndarray, y: np.ndarray) -> None:
        """Targets outside a curve's bounds are a mistake in the command: refused before any work.
        A curve that cannot be built (fewer than 3 sizes) is not: it gets an error row later."""
        try:
            data = build_curve(name, n, y, self.meta)
        except CurvecastError:
            return
        for t in self.targets:
            try:
                data.check_target(t)
            except CurvecastError as e:
                raise CurvecastError(f"curve {name!r}: {e}") from None

    @property
    def todo(self) -> int:
        """Curves this run will answer."""
        return len(self.names) - self.skipped

    def _tasks(self, kw: dict[str, Any], bad: list[dict[str, Any]]) -> Iterator[tuple[CurveData, dict[str, Any]]]:
        for i, (name, n, y, notes) in enumerate(self.curves):
            if i >= len(self.names):
                return
            if name in self.out:
                continue
            try:
                yield build_curve(name, n, y, self.meta, notes), kw
            except CurvecastError as e:
                bad.append({"curve": name, "error": str(e)})

    def run(self, runner: Runner, progress: Progress | None = None) -> dict[str, Any]:
        """Answer every curve left to do on ``runner``; returns what happened (counts, times, status)."""
        cores = None if isinstance(runner, InProcess) else 1  # one worker, one core
        kw = {"at": self.at, "targets": self.targets, "prob": self.prob}
        kw["fit_kwargs"] = {"cores": cores} | self.fit_kwargs
        done = failed = unhealthy = 0
        first: float | None = None
        bad: list[dict[str, Any]] = []
        t0 = time.perf_counter()

        def record(row: dict[str, Any]) -> None:
            nonlocal done, failed, unhealthy, first
            if self.out.append(row):
                done, failed = done + 1, failed + ("error" in row and row["error"] is not None)
                unhealthy += row.get("diagnostics_ok") is False
                first = first if first is not None else time.perf_counter() - t0
                if progress:
                    progress(done, self.todo, failed)

        interrupted, died = False, None
        if progress:
            progress(0, self.todo, 0)
        try:
            window = max(self.chunk_size, 2 * runner.workers)
            for task, outcome in runner.imap(answer_task, self._tasks(kw, bad), window):
                while bad:
                    record(bad.pop())
                if isinstance(outcome, BaseException):  # outside the task: its worker died, again and again
                    outcome = {"curve": task[0].name, "error": f"{type(outcome).__name__}: {outcome}"}
                record(outcome)
            while bad:
                record(bad.pop())
        except KeyboardInterrupt:
            interrupted = True
        except WorkerDied as e:  # the answers so far are kept, as after Ctrl-C, then the cause is said
            died, interrupted = e, True
        try:
            self.out.finish({name: i for i, name in enumerate(self.names)}, INTERRUPTED if interrupted else COMPLETE)
        except KeyboardInterrupt:  # during the final rewrite: the file keeps its rows, marked incomplete
            interrupted = True
        if died is not None:
            raise WorkerDied(
                f"{died}. The {done} answer(s) finished are kept in {self.out.path} (run_status = interrupted); "
                "answer the rest with --resume (a smaller --chunk-size needs less memory too)"
            ) from None
        secs = time.perf_counter() - t0
        return {
            "curves": len(self.names),
            "answered": done - failed,
            "failed": failed,
            "with_problems": unhealthy,
            "skipped": self.skipped,
            "retried": self.retried,
            "remaining": self.todo - done,
            "seconds": secs,
            "curves_per_minute": 60 * done / secs if secs > 0 and done else 0.0,
            "first_answer_seconds": first,
            "interrupted": interrupted,
            "run_status": INTERRUPTED if interrupted else COMPLETE,
            "output": str(self.out.path),
            "engine": runner.description,
            "dashboard": runner.dashboard,
            "streamed": self.curves.streamed,
        }


def run_batch(
    source: str | Path,
    output: str | Path,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    on_start: Callable[[Runner, Batch], None] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Plan a :class:`Batch` (``kwargs``: its parameters) and run it over ``jobs`` local processes
    (default: all cores) or on Dask (``scheduler``: an address, or ``"local"`` with ``workers``).
    ``on_start(runner, batch)`` is called once the runner is up (to print the plan, the dashboard)."""
    check_runner_options(jobs=jobs, scheduler=scheduler, workers=workers)
    batch = Batch(source, output, **kwargs)
    with open_runner(jobs=jobs, scheduler=scheduler, workers=workers, n_tasks=batch.todo) as runner:
        if on_start is not None:
            on_start(runner, batch)
        return batch.run(runner, progress)
