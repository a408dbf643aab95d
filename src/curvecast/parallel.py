"""Spread per-curve work over processes; each worker compiles a family once and reuses it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def _init_worker() -> None:
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    warnings.simplefilter("ignore")


@contextlib.contextmanager
def _safe_path() -> Iterator[None]:
    """Spawned workers start as ``python -c ...``, which would put the current directory first on
    ``sys.path``: PYTHONSAFEPATH keeps it off, so a ``json.py`` there is never imported."""
    old = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = old


def n_jobs(jobs: int | None, n_tasks: int) -> int:
    """Worker processes for ``n_tasks`` tasks: ``jobs`` (default: all cores), at most one per task.

    With more than one worker, each fit should sample its chains on one core (``cores=1``).
    """
    return max(1, min(jobs or os.cpu_count() or 1, n_tasks or 1))


def map_curves(
    fn: Callable[[Any], Any],
    tasks: Iterable[Any],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Any], bool]:
    """Apply ``fn`` to every task over ``jobs`` processes (default: all cores).

    Returns (results in completion order, interrupted). Ctrl-C stops the pool
    and keeps what has finished.
    """
    tasks = list(tasks)
    jobs = n_jobs(jobs, len(tasks))
    results: list[Any] = []
    try:
        if jobs == 1:
            for t in tasks:
                results.append(fn(t))
                if progress:
                    progress(len(results), len(tasks))
        else:
            import multiprocessing as mp

            with _safe_path(), mp.get_context("spawn").Pool(jobs, initializer=_init_worker) as pool:
                for r in pool.imap_unordered(fn, tasks, chunksize=1):
                    results.append(r)
                    if progress:
                        progress(len(results), len(tasks))
    except KeyboardInterrupt:
        return results, True
    return results, False
