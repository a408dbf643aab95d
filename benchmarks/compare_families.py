"""Backtest each family (and ``auto``) on a subsample of a corpus, to choose defaults by measurement.

python benchmarks/compare_families.py CURVES.csv [--cutoff 0.1] [--every 4] [--families pow3,exp3,...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from curvecast.backtest import run_backtest
from curvecast.data import CurveData, load_curves


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--cutoff", type=float, default=0.1)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--decreasing", action="store_true")
    ap.add_argument("--families", default="pow3,pow4,exp3,exp4,janoschek,weibull,mmf,vap,ilog2,bpl,hill3,log_power")
    ap.add_argument("--draws", type=int, default=1000)
    a = ap.parse_args()
    curves = [CurveData(n, y, increasing=not a.decreasing, name=k) for k, (n, y) in load_curves(a.csv).items()]
    curves = curves[:: a.every]
    keys = [
        "mae_final_median",
        "mae_final_mean",
        "coverage_50",
        "coverage_90",
        "crps_mean",
        "lpd_mean",
        "divergent_fits",
        "seconds",
    ]
    print("| family | curves | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 2) + "|")
    for fam in a.families.split(","):
        r = run_backtest(curves, a.cutoff, fit_kwargs={"family": fam, "draws": a.draws})
        s = r["summary"]
        print(f"| {fam} | {r['n_curves']} | " + " | ".join(f"{s[k]:.4g}" for k in keys) + " |", flush=True)
        out = Path(__file__).resolve().parent / "results" / f"lcdb-every{a.every}_{a.cutoff:g}_{fam}.json"
        if "lcdb" not in Path(a.csv).name:
            out = out.with_name(f"{Path(a.csv).stem}-every{a.every}_{a.cutoff:g}_{fam}.json")
        out.write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    main()
