"""How the cost of ``curvecast batch`` grows: local process pool against a Dask LocalCluster (issue 14).

For each number of curves (the first N of ``lcdb_accuracy_dev_all.csv.gz``) and each engine, one
batch runs exactly as ``curvecast batch`` does (``curvecast.batch.Batch`` on the runner the CLI would
open), writing Parquet. Measured: wall time from the start (the pool or cluster included), time to
the first answer, throughput, the workers' busy fraction, the peak RSS of every worker process (the
process tree is polled every 0.25 s) and of this client process, and the CPU seconds the workers
spent per curve (start-up included: the cost of a curve on a core of its own, whatever the load).
Then the scheduling overhead per task of each engine is measured with a no-op task
(``operator.neg``) through the same ``imap``.

    python benchmarks/scale.py [--sizes 100 1000] [--workers 2] [--draws 1000 --tune 1000 --chains 4]
                               [--shared ../shared/benchmarks] [--out benchmarks/results/scale_DATE.json]

Prints one JSON object per measurement and writes them all to ``--out`` (RESULTS.md, "Scaling ``batch``").
"""

from __future__ import annotations

import argparse
import datetime
import json
import operator
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

from curvecast.batch import Batch
from curvecast.parallel import open_runner

HERE = Path(__file__).resolve().parent


class PeakMemory:
    """Polls the RSS of this process and of every descendant; ``workers`` are the spawned ones."""

    def __init__(self, every: float = 0.25) -> None:
        self.every, self.peak, self.kind, self.cpu = every, {}, {}, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                procs = [me, *me.children(recursive=True)]
            except psutil.Error:  # a child ended while the tree was read
                procs = [me]
            for p in procs:
                try:
                    rss, times = p.memory_info().rss, p.cpu_times()
                    if p.pid not in self.kind:
                        cmd = " ".join(p.cmdline())
                        self.kind[p.pid] = "client" if p.pid == me.pid else "worker" if "spawn_main" in cmd else "other"
                except psutil.Error:
                    continue
                self.peak[p.pid] = max(self.peak.get(p.pid, 0), rss)
                self.cpu[p.pid] = times.user + times.system
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_seconds(self, kind: str) -> float:
        """CPU time of the processes of one kind, as last seen (a quarter of a second late at most)."""
        return sum(v for pid, v in self.cpu.items() if self.kind.get(pid) == kind)

    def mb(self, kind: str) -> list[float]:
        return sorted(round(v / 2**20, 1) for pid, v in self.peak.items() if self.kind.get(pid) == kind)


def runner_options(engine: str, workers: int) -> dict[str, Any]:
    return {"jobs": workers} if engine == "local pool" else {"scheduler": "local", "workers": workers}


def measure(engine: str, n: int, corpus: Path, fit_kwargs: dict[str, Any], workers: int, tmp: Path) -> dict[str, Any]:
    out = tmp / f"{engine.replace(' ', '_')}-{n}.parquet"
    batch = Batch(corpus, out, at=[1e5], targets=[0.9], fit_kwargs=fit_kwargs, limit=n)
    load0 = os.getloadavg()[0]
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        with open_runner(**runner_options(engine, workers), n_tasks=batch.todo) as runner:
            startup = time.perf_counter() - t0
            stats = batch.run(runner)
        wall = time.perf_counter() - t0
    df = pd.read_parquet(out)
    busy = float(df["seconds"].sum())
    return {
        "engine": engine,
        "curves": n,
        "workers": workers,
        "wall_s": round(wall, 1),
        "startup_s": round(startup, 1),
        "first_answer_s": round(startup + stats["first_answer_seconds"], 1),
        "curves_per_min": round(60 * n / wall, 1),
        "curves_per_min_after_startup": round(60 * n / stats["seconds"], 1),
        "curve_s_median": round(float(df["seconds"].median()), 2),
        "curve_s_mean": round(float(df["seconds"].mean()), 2),
        "busy_fraction": round(busy / (stats["seconds"] * workers), 3),
        "worker_cpu_s_per_curve": round(mem.cpu_seconds("worker") / n, 3),
        "overhead_per_curve_s": round((stats["seconds"] * workers - busy) / n, 3),
        "failed": int(df["error"].notna().sum()),
        "rows": len(df),
        "unique_curves": int(df["curve"].nunique()),
        "peak_rss_worker_mb": mem.mb("worker"),
        "peak_rss_client_mb": mem.mb("client"),
        "loadavg_1min": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }


def task_overhead(engine: str, workers: int, tasks: int) -> dict[str, Any]:
    """Seconds per no-op task through the engine's ``imap`` (window 64), after a warm-up."""
    with open_runner(**runner_options(engine, workers), n_tasks=tasks) as runner:
        list(runner.imap(operator.neg, range(4 * workers), window=64))
        t0 = time.perf_counter()
        done = sum(1 for _ in runner.imap(operator.neg, range(tasks), window=64))
        secs = time.perf_counter() - t0
    return {"engine": engine, "noop_tasks": done, "seconds_per_task_ms": round(1000 * secs / done, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--engines", nargs="+", default=["local pool", "dask localcluster"])
    ap.add_argument("--noop-tasks", type=int, default=2000)
    ap.add_argument("--shared", default=str(HERE.parents[1] / "shared" / "benchmarks"))
    ap.add_argument("--out", default=str(HERE / "results" / f"scale_{datetime.date.today()}.json"))
    a = ap.parse_args()
    corpus = Path(a.shared) / "lcdb_accuracy_dev_all.csv.gz"
    fit_kwargs = {"draws": a.draws, "tune": a.tune, "chains": a.chains, "seed": 0}
    results: dict[str, Any] = {
        "date": str(datetime.datetime.now().replace(microsecond=0)),
        "machine": f"{platform.node()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.python_version()}",
        "fit_kwargs": fit_kwargs,
        "runs": [],
        "noop": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.sizes:
            for engine in a.engines:  # alternate engines so that both see the same background load
                r = measure(engine, n, corpus, fit_kwargs, a.workers, Path(tmp))
                print(json.dumps(r), flush=True)
                results["runs"].append(r)
    for engine in a.engines:
        r = task_overhead(engine, a.workers, a.noop_tasks)
        print(json.dumps(r), flush=True)
        results["noop"].append(r)
    med = {e: statistics.median(r["curve_s_mean"] for r in results["runs"] if r["engine"] == e) for e in a.engines}
    results["curve_s_mean_by_engine"] = med
    Path(a.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
