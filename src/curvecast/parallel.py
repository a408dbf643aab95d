"""Spread per-curve work over processes; each worker compiles a family once and reuses it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any


def _init_worker() -> None:
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    os.environ["CURVECAST_WORKER"] = "1"  # one core per worker: single-threaded NUTS
    warnings.simplefilter("ignore")


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
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    results: list[Any] = []
    try:
        if jobs == 1:
            for t in tasks:
                results.append(fn(t))
                if progress:
                    progress(len(results), len(tasks))
        else:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(jobs, initializer=_init_worker) as pool:
                for r in pool.imap_unordered(fn, tasks, chunksize=1):
                    results.append(r)
                    if progress:
                        progress(len(results), len(tasks))
    except KeyboardInterrupt:
        return results, True
    return results, False
