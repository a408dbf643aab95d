"""Regenerate the backtest tables of benchmarks/RESULTS.md.

Each configuration is the same as a `curvecast backtest` command line, e.g.
``curvecast backtest ../shared/benchmarks/lcdb_accuracy_dev.csv --cutoff 0.1 --json``.
Results are written to benchmarks/results/<corpus>_<cutoff>_<family>.json and a
Markdown table is printed. Usage:

    python benchmarks/backtests.py [--shared ../shared/benchmarks] [--family pow3] [--only seed,lcdb,partin]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from curvecast.backtest import run_backtest
from curvecast.data import CurveData, load_curves

HERE = Path(__file__).resolve().parent
CONFIGS = [
    ("seed", "seed_coco_bdd_map.csv", 0.05, False),
    ("seed", "seed_coco_bdd_map.csv", 0.10, False),
    ("lcdb", "lcdb_accuracy_dev.csv", 0.05, False),
    ("lcdb", "lcdb_accuracy_dev.csv", 0.10, False),
    ("lcdb-replicates", "lcdb_accuracy_dev_replicates.csv", 0.10, False),
    ("partin", "partin_drug_response_mae_dev.csv", 0.10, True),
]
KEYS = [
    "mae_final_median",
    "mae_final_mean",
    "mae_heldout_mean",
    "coverage_50",
    "coverage_80",
    "coverage_90",
    "crps_mean",
    "lpd_mean",
    "divergent_fits",
    "retried_fits",
    "seconds",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(HERE.parents[1] / "shared" / "benchmarks"))
    ap.add_argument("--family", default="pow3")
    ap.add_argument("--only", default="seed,lcdb,lcdb-replicates,partin")
    ap.add_argument("--cutoffs", default="0.05,0.1")
    a = ap.parse_args()
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    cutoffs = {round(float(c), 4) for c in a.cutoffs.split(",")}
    print(
        "| corpus | cutoff | family | curves (skipped) | "
        + " | ".join(KEYS)
        + " | log-reg mae_final mean | last-value mae_final median / mean |"
    )
    print("|---" * (len(KEYS) + 6) + "|")
    for corpus, fname, cutoff, dec in CONFIGS:
        if corpus not in a.only.split(",") or round(cutoff, 4) not in cutoffs:
            continue
        curves = [
            CurveData(n, y, increasing=not dec, name=k) for k, (n, y) in load_curves(Path(a.shared) / fname).items()
        ]
        r = run_backtest(curves, cutoff, fit_kwargs={"family": a.family})
        (out_dir / f"{corpus}_{cutoff:g}_{a.family}.json").write_text(json.dumps(r, indent=1, default=str))
        s = r["summary"]
        cells = " | ".join(f"{s[k]:.4g}" for k in KEYS)
        print(
            f"| {corpus} | {cutoff:g} | {a.family} | {r['n_curves']} ({r['n_skipped']}) | {cells} | "
            f"{s['logreg_mae_final_mean']:.4f} | {s['last_mae_final_median']:.4f} / {s['last_mae_final_mean']:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
