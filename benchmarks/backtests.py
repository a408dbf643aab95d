"""Regenerate the backtest tables of benchmarks/RESULTS.md.

Each configuration is the same as a `curvecast backtest` command line, e.g.
``curvecast backtest ../shared/benchmarks/lcdb_accuracy_dev.csv --cutoff 0.1 --json``
(``--split-column fit --decreasing`` for the scaling-law corpus, whose own split
replaces the cutoff). Results are written to
benchmarks/results/<corpus>_<cutoff or split>_<family>.json and two Markdown
tables are printed: curvecast's scores, and every peer's beside curvecast's on
the same curves (abs. error at the largest held-out n: median / mean; RMSE over
the held-out rows: median). Usage:

    python benchmarks/backtests.py [--shared ../shared/benchmarks]
        [--family pow3+pow4 (the default model)] [--cutoffs 0.05,0.1,0.2]
        [--only seed,lcdb,lcdb-replicates,logloss,scaling,partin]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from curvecast.backtest import run_backtest
from curvecast.data import CurveData, load_curves, split_masks
from curvecast.inference import DEFAULT_FAMILY
from curvecast.peers import PEERS

HERE = Path(__file__).resolve().parent
#: (corpus, file, cutoff or None for the file's own split column "fit", decreasing)
CONFIGS: list[tuple[str, str, float | None, bool]] = [
    ("seed", "seed_coco_bdd_map.csv", 0.05, False),
    ("seed", "seed_coco_bdd_map.csv", 0.10, False),
    ("lcdb", "lcdb_accuracy_dev.csv", 0.05, False),
    ("lcdb", "lcdb_accuracy_dev.csv", 0.10, False),
    ("lcdb", "lcdb_accuracy_dev.csv", 0.20, False),
    ("lcdb-replicates", "lcdb_accuracy_dev_replicates.csv", 0.10, False),
    ("logloss", "lcdb_logloss_dev.csv", 0.10, True),
    ("scaling", "scaling_ic_dev.csv", None, True),
    ("partin", "partin_drug_response_mae_dev.csv", 0.10, True),
]
KEYS = [
    "mae_final_median",
    "mae_final_mean",
    "mae_heldout_mean",
    "rmse_heldout_median",
    "coverage_50",
    "coverage_80",
    "coverage_90",
    "width_90_mean",
    "crps_mean",
    "lpd_mean",
    "divergent_fits",
    "retried_fits",
    "warned_fits",
    "seconds",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(HERE.parents[1] / "shared" / "benchmarks"))
    ap.add_argument("--family", default=DEFAULT_FAMILY)
    ap.add_argument("--only", default="seed,lcdb,lcdb-replicates,logloss,scaling,partin")
    ap.add_argument("--cutoffs", default="0.05,0.1,0.2")
    a = ap.parse_args()
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    cutoffs = {round(float(c), 4) for c in a.cutoffs.split(",")}
    scores, peers = [], []
    for corpus, fname, cutoff, dec in CONFIGS:
        if corpus not in a.only.split(",") or (cutoff is not None and round(cutoff, 4) not in cutoffs):
            continue
        path = Path(a.shared) / fname
        curves = [CurveData(n, y, increasing=not dec, name=k) for k, (n, y) in load_curves(path).items()]
        masks = split_masks(path, "fit") if cutoff is None else None
        r = run_backtest(curves, cutoff or 0.1, fit_kwargs={"family": a.family}, masks=masks)
        where = "split" if cutoff is None else f"{cutoff:g}"
        (out_dir / f"{corpus}_{where}_{a.family}.json").write_text(json.dumps(r, indent=1, default=str))
        s = r["summary"]
        head = f"| {corpus} | {where} | {a.family} | {r['n_curves']} ({r['n_skipped']}) |"
        scores.append(head + " | ".join(f" {s[k]:.4g}" for k in KEYS) + " |")
        for who in ("", *(f"{p}_" for p in PEERS)):
            cells = f"{s[who + 'mae_final_median']:.4f} / {s[who + 'mae_final_mean']:.4f}"
            name = who.rstrip("_") or "curvecast"
            peers.append(f"| {corpus} | {where} | {name} | {cells} | {s[who + 'rmse_heldout_median']:.4f} |")
        print(scores[-1], flush=True)
    print("\n| corpus | cutoff | family | curves (skipped) | " + " | ".join(KEYS) + " |")
    print("|---" * (len(KEYS) + 4) + "|")
    print("\n".join(scores))
    print("\n| corpus | cutoff | method | abs. error at largest n: median / mean | RMSE held out: median |")
    print("|---|---|---|---|---|")
    print("\n".join(peers))


if __name__ == "__main__":
    main()
