"""Runs over many curves on Dask distributed: a LocalCluster on this machine, or an existing scheduler.

Needs the ``dask`` extra (``pip install "curvecast[dask]"``); only :func:`curvecast.parallel.open_runner`
imports this module, when a ``scheduler`` is asked for. Each task is one curve (or one pooled group):
the scheduler sends the curve's data and settings, never compiled code. The :class:`CurvecastWorker`
plugin prepares every worker once; the worker process then keeps each model it compiles, or loads
from its ``CURVECAST_CACHE_DIR`` (which workers may share on a network file system, under the cache's
usual trust rules), for every later curve it gets. A task whose worker dies is run again elsewhere by
Dask (up to ``distributed.scheduler.allowed-failures`` times); after that its outcome is the error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from distributed import Client, LocalCluster, as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from curvecast import __version__
from curvecast.errors import CurvecastError
from curvecast.processes import ignore_sigint, safe_path, sigint_ignored

#: seconds to wait for an existing scheduler to answer
CONNECT_TIMEOUT = 20
#: the name the worker plugin is registered under
PLUGIN = "curvecast"
#: where a LocalCluster's dashboard listens (Dask moves it to a free port when this one is taken)
DASHBOARD = "127.0.0.1:8787"


class CurvecastWorker(WorkerPlugin):
    """Set up once per worker: warnings off, curvecast's sampler imported, the version checked.

    ``idempotent``: registering it again (a second batch on the same cluster) leaves the workers'
    set-up, and the models they hold in memory, as they are. ``own_cluster``: the workers are this
    client's LocalCluster, so Ctrl-C in the terminal is the client's to handle, not theirs.
    """

    idempotent = True

    def __init__(self, version: str = __version__, own_cluster: bool = False) -> None:
        self.version, self.own_cluster = version, own_cluster
        self.setups = 0
        self.ready_at: float | None = None

    def setup(self, worker: Any) -> None:
        import curvecast

        if curvecast.__version__ != self.version:
            raise RuntimeError(
                f"worker {worker.address} runs curvecast {curvecast.__version__}, the client {self.version}; "
                "install the same version on every worker"
            )
        warnings.simplefilter("ignore")
        if self.own_cluster:
            ignore_sigint()
        import curvecast.inference  # PyMC and nutpie: seconds, paid once per worker

        self.setups += 1
        self.ready_at = time.time()


def plugin_state(dask_worker: Any) -> dict[str, Any]:
    """What the plugin did on one worker (for ``client.run``): set-ups and the worker's process id."""
    plugin = dask_worker.plugins.get(PLUGIN)
    return {"setups": getattr(plugin, "setups", 0), "pid": os.getpid()}


class DaskRunner:
    """A Dask client on ``scheduler``, an address such as ``tcp://host:8786``; without one, on a new
    LocalCluster of ``workers`` single-threaded processes on 127.0.0.1 (default: one per core)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        self._cluster: LocalCluster | None = None
        if scheduler is None:
            n = workers if workers is not None else os.cpu_count() or 1
            with safe_path(), sigint_ignored(), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Port .* is already in use")  # the link says where
                self._cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=DASHBOARD,
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self._cluster)
            self.description = f"Dask LocalCluster, {n} worker processes"
        else:
            try:
                self.client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as e:
                raise CurvecastError(
                    f"cannot reach the Dask scheduler at {scheduler} ({e}); check the address, or use --scheduler local"
                ) from None
            self.description = f"Dask scheduler {scheduler}"
        try:
            self.client.register_plugin(CurvecastWorker(own_cluster=self._cluster is not None), name=PLUGIN)
        except RuntimeError as e:
            self.close()
            raise CurvecastError(str(e)) from None
        threads = sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())
        self.workers = max(1, threads)
        if self._cluster is None:
            self.description += f", {threads} worker threads"
        self.dashboard: str | None = self.client.dashboard_link

    def imap(self, fn: Callable[[Any], Any], tasks: Iterable[Any], window: int) -> Iterator[tuple[Any, Any]]:
        """Submit tasks as slots free up (at most ``window`` in flight); yield ``(task, outcome)`` as they finish."""
        source, done = iter(tasks), as_completed()
        pending: dict[Any, tuple[Any, Any]] = {}
        run = uuid.uuid4().hex[:8]
        name = getattr(fn, "__name__", "task").strip("_")

        def submit() -> None:
            while len(pending) < max(window, 2 * self.workers):
                task = next(source, _END)
                if task is _END:
                    return
                fut = self.client.submit(fn, task, key=f"{name}-{run}-{len(pending)}-{uuid.uuid4().hex[:6]}")
                pending[fut.key] = (fut, task)
                done.add(fut)

        try:
            submit()
            for fut in done:
                _, task = pending.pop(fut.key)
                try:
                    outcome = fut.result()
                except Exception as e:  # the worker died too often, or the result could not come back
                    outcome = e
                yield task, outcome
                submit()
        finally:
            if pending:  # stopped early (Ctrl-C): forget what is still queued or running
                with contextlib.suppress(Exception):
                    self.client.cancel([f for f, _ in pending.values()])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_END = object()
