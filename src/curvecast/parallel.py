"""Where per-curve work runs: in this process, in a pool of local processes, or on a Dask cluster.

Every runner has one method, ``imap(fn, tasks, window)``: it yields ``(task, outcome)`` as tasks
finish, pulling tasks lazily with at most ``window`` in flight, so a run over a file of any size
holds ``window`` tasks in memory. ``outcome`` is ``fn(task)``, or the exception that stopped it
outside ``fn`` (a worker that died, a result that could not be sent back). Each worker process
is kept for every task it gets, so it compiles (or loads) a model once and reuses it.

The local runners need nothing beyond the standard library; the Dask runner lives in
:mod:`curvecast.distributed` and is imported only when a ``scheduler`` is asked for.
"""

from __future__ import annotations

import contextlib
import os
import queue
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from curvecast.errors import CurvecastError
from curvecast.processes import init_worker, safe_path

#: the ``scheduler`` value that starts a Dask LocalCluster on this machine
LOCAL = "local"


class Runner(Protocol):
    """Runs tasks somewhere and yields ``(task, outcome)`` as they finish."""

    #: how many tasks run at once
    workers: int
    #: one line for people: "2 local processes", "Dask LocalCluster, 2 workers", ...
    description: str
    #: the Dask dashboard's address, when there is one
    dashboard: str | None

    def imap(self, fn: Callable[[Any], Any], tasks: Iterable[Any], window: int) -> Iterator[tuple[Any, Any]]: ...


def n_jobs(jobs: int | None, n_tasks: int) -> int:
    """Worker processes for ``n_tasks`` tasks: ``jobs`` (default: all cores), at most one per task.

    With more than one worker, each fit should sample its chains on one core (``cores=1``).
    """
    if jobs is not None and jobs < 1:
        raise CurvecastError(f"--jobs must be at least 1, got {jobs}")
    return max(1, min(jobs or os.cpu_count() or 1, n_tasks or 1))


class InProcess:
    """Every task in this process, one after the other."""

    workers, description = 1, "this process"
    dashboard: str | None = None

    def imap(self, fn: Callable[[Any], Any], tasks: Iterable[Any], window: int) -> Iterator[tuple[Any, Any]]:
        for t in tasks:
            yield t, fn(t)


class WorkerDied(CurvecastError):
    """A local worker process died (killed, out of memory): the pool cannot go on."""


class ProcessPool:
    """``jobs`` spawned local processes; Ctrl-C stops them at once (their running tasks are dropped).

    A worker that dies (killed, out of memory) breaks the pool: :class:`WorkerDied` is raised at
    once, counting the tasks that were in flight, instead of waiting forever for their results."""

    dashboard: str | None = None

    def __init__(self, jobs: int) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.workers, self.description, self._abandoned = jobs, f"{jobs} local processes", False
        self._pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=init_worker)

    def imap(self, fn: Callable[[Any], Any], tasks: Iterable[Any], window: int) -> Iterator[tuple[Any, Any]]:
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        finished: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        source, in_flight = iter(tasks), 0

        def submit() -> bool:
            task = next(source, _END)
            if task is _END:
                return False

            def put(future: Future[Any]) -> None:
                try:
                    finished.put((task, future.result()))
                except BaseException as e:  # the task's own exception is its outcome
                    finished.put((task, e))

            with safe_path():  # the executor starts its workers as tasks arrive
                self._pool.submit(fn, task).add_done_callback(put)
            return True

        try:
            while in_flight < max(window, self.workers) and submit():
                in_flight += 1
            while in_flight:
                try:
                    task, outcome = finished.get(timeout=0.2)  # a timeout keeps Ctrl-C responsive
                except queue.Empty:
                    continue
                in_flight -= 1
                if isinstance(outcome, BrokenProcessPool):
                    raise WorkerDied(
                        "a worker process died (killed, or out of memory?) with "
                        f"{in_flight + 1} task(s) in flight; fewer --jobs need less memory"
                    )
                yield task, outcome
                in_flight += submit()
        finally:
            self._abandoned = self._abandoned or in_flight > 0  # stopped early: close() terminates

    def close(self, interrupted: bool) -> None:
        if interrupted or self._abandoned:  # stop the running tasks too, not only the queued ones
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


_END = object()


def check_runner_options(*, jobs: int | None = None, scheduler: str | None = None, workers: int | None = None) -> None:
    """Refuse options that do not go together, before any work."""
    if jobs is not None and jobs < 1:
        raise CurvecastError(f"--jobs must be at least 1, got {jobs}")
    if workers is not None and workers < 1:
        raise CurvecastError(f"--workers must be at least 1, got {workers}")
    if scheduler is None and workers is not None:
        raise CurvecastError("--workers sizes a Dask LocalCluster: add --scheduler local (or use --jobs)")
    if scheduler is not None and jobs is not None:
        raise CurvecastError("--jobs counts local processes; with --scheduler, size a LocalCluster with --workers")
    if scheduler not in (None, LOCAL) and workers is not None:
        raise CurvecastError(
            "--workers sizes a LocalCluster (--scheduler local); an existing cluster brings its own workers"
        )
    if scheduler not in (None, LOCAL) and ":" not in scheduler:
        raise CurvecastError(f"--scheduler {scheduler!r} is neither 'local' nor an address like tcp://host:8786")


@contextlib.contextmanager
def open_runner(
    *, jobs: int | None = None, scheduler: str | None = None, workers: int | None = None, n_tasks: int = 0
) -> Iterator[Runner]:
    """The runner for these options: ``scheduler`` (a Dask address, or ``"local"`` for a LocalCluster
    of ``workers`` processes), else ``jobs`` local processes (default: all cores; 1: this process)."""
    check_runner_options(jobs=jobs, scheduler=scheduler, workers=workers)
    if scheduler is None:
        jobs = n_jobs(jobs, n_tasks)
        if jobs == 1:
            yield InProcess()
            return
        pool = ProcessPool(jobs)
        try:
            yield pool
        except BaseException:
            pool.close(interrupted=True)
            raise
        pool.close(interrupted=False)
        return
    try:
        from curvecast.distributed import DaskRunner
    except ImportError as e:
        raise CurvecastError(f"--scheduler needs Dask ({e}); install it with: pip install 'curvecast[dask]'") from None
    with DaskRunner(None if scheduler == LOCAL else scheduler, workers) as runner:
        yield runner


def map_curves(
    fn: Callable[[Any], Any],
    tasks: Iterable[Any],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | Runner | None = None,
    workers: int | None = None,
    on_start: Callable[[Runner], None] | None = None,
) -> tuple[list[Any], bool]:
    """Apply ``fn`` to every task, over ``jobs`` local processes (default: all cores) or on a Dask
    cluster (``scheduler``: an address, ``"local"``, or a runner already open); ``on_start(runner)``
    is called once the runner is up (to print where it runs, the dashboard).

    Returns (results in completion order, interrupted). Ctrl-C stops the work and keeps what has
    finished. A task that failed outside ``fn`` (its worker died) raises here.
    """
    tasks = list(tasks)
    results: list[Any] = []
    try:
        with contextlib.ExitStack() as stack:
            if scheduler is None or isinstance(scheduler, str):
                local = jobs if scheduler is None else None
                opened = open_runner(jobs=local, scheduler=scheduler, workers=workers, n_tasks=len(tasks))
                runner = stack.enter_context(opened)
            else:
                runner = scheduler
            if on_start is not None:
                on_start(runner)
            for _, outcome in runner.imap(fn, tasks, window=2 * runner.workers):
                if isinstance(outcome, BaseException):
                    raise outcome
                results.append(outcome)
                if progress:
                    progress(len(results), len(tasks))
    except KeyboardInterrupt:  # the runner has stopped its workers on the way out
        return results, True
    return results, False
