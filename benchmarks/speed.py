"""Wall-time and peak-memory benchmarks for curvecast, measured as whole processes.

Each case runs ``--runs`` times (default 5); the median, min and max are reported
with the peak RSS of the process tree. The naive PyMC script from
``../shared/benchmarks/naive_pymc_baseline.py`` runs in the same session so that
ratios compare like with like. Usage:

    python benchmarks/speed.py [--runs 5] [--shared ../shared/benchmarks] [--cases a,b,...]

``--cases batch`` times ``curvecast batch`` on 10, 100 and all 240 LCDB dev curves (one run each).

Prints a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = str(Path(sys.executable).with_name("curvecast"))
PY = sys.executable


_WRAP = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "w = time.perf_counter() - t\n"
    "sys.stderr.write(p.stderr[-2000:]) if p.returncode else None\n"
    "print(p.returncode, w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in GB) of one process, timed by a small wrapper process."""
    out = subprocess.run([PY, "-c", _WRAP, *cmd], env=env, capture_output=True, text=True, check=True)
    rc, wall, kb = out.stdout.split()[-3:]
    if rc != "0":
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return float(wall), int(kb) / 1024**2


def bench(
    name: str, cmd: list[str], runs: int, env: dict[str, str] | None = None, setup: object = None
) -> dict[str, object]:
    walls, mems = [], []
    for _ in range(runs):
        if callable(setup):
            setup()
        w, m = run_once(cmd, env)
        walls.append(w)
        mems.append(m)
    return {
        "case": name,
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "runs": runs,
        "peak_gb": max(mems),
        "cmd": " ".join(Path(c).name if c in (BIN, PY) else c for c in cmd),
    }


def bench_pair(a: tuple[str, list[str]], b: tuple[str, list[str]], runs: int) -> list[dict[str, object]]:
    """Two cases run alternately (a, b, a, b, ...), so a ratio compares like with like."""
    ra: list[dict[str, object]] = []
    rb: list[dict[str, object]] = []
    for _ in range(runs):
        ra.append(bench(*a, 1))
        rb.append(bench(*b, 1))
    return [_merge(ra), _merge(rb)]


def _merge(rs: list[dict[str, object]]) -> dict[str, object]:
    walls = [float(r["median"]) for r in rs]  # type: ignore[arg-type]
    return rs[0] | {
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "runs": len(rs),
        "peak_gb": max(float(r["peak_gb"]) for r in rs),  # type: ignore[arg-type]
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shared", default=str(HERE.parents[1] / "shared" / "benchmarks"))
    ap.add_argument("--cases", default="help,saved,warm,refit,auto,cold,engines,naive")  # also: batch
    a = ap.parse_args()
    shared = Path(a.shared)
    seed = str(shared / "seed_coco_bdd_map.csv")
    cases = a.cases.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="curvecast-bench-"))
    fitnc = tmp / "fit.nc"
    q = ["--curve", "COCO_ssd_resnet101_v1_fpn", "--target", "0.5", "--at", "100000"]
    naive_script = str(shared / "naive_pymc_baseline.py")
    rows = []
    if "help" in cases:
        rows.append(bench("`curvecast --help`", [BIN, "--help"], a.runs))
    if "saved" in cases:
        subprocess.run(
            [BIN, "fit", seed, "--curve", "COCO_ssd_resnet101_v1_fpn", "-o", str(fitnc)],
            check=True,
            capture_output=True,
        )
        rows.append(
            bench(
                "query on a saved fit (`prob fit.nc`)",
                [BIN, "prob", str(fitnc), "--target", "0.5", "--at", "100000"],
                a.runs,
            )
        )
    if "warm" in cases:
        run_once([BIN, "prob", seed, *q])  # make sure the compile cache is warm
        warm = ("cold process `prob seed.csv`, default model, compile cache warm", [BIN, "prob", seed, *q])
        if "naive" in cases:
            # interleave with the naive script so that both see the same machine load
            rows += bench_pair(warm, ("naive PyMC script (shared/benchmarks)", [PY, naive_script]), a.runs)
        else:
            rows.append(bench(*warm, a.runs))
    if "refit" in cases:
        code = (
            "import time, warnings; warnings.simplefilter('ignore'); import curvecast as cc\n"
            "n=[1183,2957,5914,11829]; y=[0.191,0.262,0.323,0.376]\n"
            "cc.fit(n, y, seed=0)\n"
            "ts=[]\n"
            "for s in range(5):\n"
            "    t=time.perf_counter(); cc.fit(n[:3]+[11829], [0.19,0.26,0.32,0.37+0.001*s], seed=s);"
            " ts.append(time.perf_counter()-t)\n"
            "print(sorted(ts)[2])\n"
        )
        out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-1]
        rows.append(
            {
                "case": "in-process refit on new data (compiled), 4 chains x 1000 draws",
                "median": float(out),
                "min": float("nan"),
                "max": float("nan"),
                "runs": 5,
                "peak_gb": float("nan"),
                "cmd": "benchmarks/speed.py (refit snippet)",
            }
        )
    if "auto" in cases:
        run_once([BIN, "prob", seed, *q, "--family", "auto"])  # warm the cache for every family of auto
        rows.append(
            bench(
                "`--family auto`, cold process (cache warm)",
                [BIN, "prob", seed, *q, "--family", "auto"],
                max(1, a.runs // 2),
            )
        )
    if "cold" in cases:
        cold_dir = tmp / "cold"

        def wipe() -> None:
            shutil.rmtree(cold_dir, ignore_errors=True)
            cold_dir.mkdir()

        env = dict(
            os.environ,
            PYTENSOR_FLAGS=f"compiledir={cold_dir}/pt",
            NUMBA_CACHE_DIR=str(cold_dir / "nb"),
            CURVECAST_CACHE_DIR=str(cold_dir / "cc"),
        )
        rows.append(
            bench(
                "cold process, cold compile cache (fresh machine)",
                [BIN, "prob", seed, *q],
                max(1, a.runs // 2),
                env=env,
                setup=wipe,
            )
        )
    if "engines" in cases:
        runs = max(1, a.runs // 2)
        env = dict(os.environ, CURVECAST_NO_DISK_CACHE="1")
        rows.append(
            bench(
                "cold process `prob seed.csv`, nutpie's own compile (no disk cache)", [BIN, "prob", seed, *q], runs, env
            )
        )
        for eng in ("pymc",):
            env = dict(os.environ, CURVECAST_ENGINE=eng)
            run_once([BIN, "prob", seed, *q], env)  # warm this engine's compile cache
            rows.append(
                bench(
                    f"cold process `prob seed.csv`, engine {eng}, cache warm",
                    [BIN, "prob", seed, *q],
                    max(1, a.runs // 2),
                    env=env,
                )
            )
    if "batch" in cases:
        lcdb = str(shared / "lcdb_accuracy_dev.csv")
        out_csv = str(tmp / "answers.csv")
        for limit in ("10", "100", "240"):
            cmd = [BIN, "batch", lcdb, "--at", "10000", "--at", "100000", "--targets", "0.9", "-o", out_csv]
            rows.append(bench(f"batch, {limit} LCDB dev curves (cache warm)", [*cmd, "--limit", limit], 1))
    if "naive" in cases and "warm" not in cases:
        rows.append(bench("naive PyMC script (shared/benchmarks)", [PY, naive_script], a.runs))
    print(
        f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}"
    )
    print("| case | median s | min | max | runs | peak RSS GB |\n|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['median']:.2f} | {r['min']:.2f} | {r['max']:.2f} | {r['runs']} | {r['peak_gb']:.2f} |"
        )
    naive = next((r for r in rows if r["case"].startswith("naive")), None)
    if naive:
        for r in rows:
            if r is not naive:
                print(f"ratio naive/{r['case']}: {naive['median'] / r['median']:.1f}x")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
