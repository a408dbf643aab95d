"""Starting worker processes safely: never from the current directory, and Ctrl-C left to the parent.

Used by the local process pool (:mod:`curvecast.parallel`) and by a Dask LocalCluster
(:mod:`curvecast.distributed`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def safe_path() -> Iterator[None]:
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


def ignore_sigint() -> None:
    """In a worker process: Ctrl-C in the terminal reaches the whole process group; the parent handles it."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def init_worker() -> None:
    """The initializer of a pool's worker processes: Ctrl-C ignored, warnings off."""
    import warnings

    ignore_sigint()
    warnings.simplefilter("ignore")


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Processes started meanwhile inherit "ignore Ctrl-C" (a Ctrl-C in these seconds is lost)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
