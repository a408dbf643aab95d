"""Scores of the backtests in benchmarks/results/ on the tuning half (A) and the held-out half (B).

The discrepancy's hyper-parameters were tuned on half A of the dev corpora only
(benchmarks/research/issue12/REPORT.md). This script splits the per-curve backtest
rows written by ``benchmarks/backtests.py`` the same way and prints curvecast's
scores beside the strongest peers on each half:

* LCDB accuracy and log-loss: OpenML data-set ids (the number in ``lcdb-<id>-...``)
  of the dev corpora, shuffled with seed 0; the first half is A;
* scaling-law curves: model families BiT and MiX are A, ViT is B;
* every other corpus is B (never tuned on).

Usage: ``python benchmarks/halves.py [--shared ../shared/benchmarks] [--family pow3+pow4]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PEERS = ("last", "ls_pow3", "ls_pow4", "ls_mmf4", "ls_wbl4")


def lcdb_half_a(shared: Path) -> set[int]:
    curves = pd.read_csv(shared / "lcdb_accuracy_dev_all.csv.gz", usecols=["curve"]).curve.unique().tolist()
    curves += pd.read_csv(shared / "lcdb_logloss_dev.csv", usecols=["curve"]).curve.unique().tolist()
    ids = np.array(sorted({int(c.split("-")[1]) for c in curves}))
    order = np.random.default_rng(0).permutation(ids.size)
    return set(ids[order[: ids.size // 2]].tolist())


def half(corpus: str, curve: str, a_ids: set[int]) -> str:
    if corpus in ("lcdb", "logloss"):
        return "A" if int(curve.split("-")[1]) in a_ids else "B"
    if corpus == "scaling":
        return "B" if "ViT" in curve else "A"
    return "B"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(HERE.parents[1] / "shared" / "benchmarks"))
    ap.add_argument("--family", default="pow3+pow4")
    a = ap.parse_args()
    a_ids = lcdb_half_a(Path(a.shared))
    print(
        "| corpus | cutoff | half | curves | median / mean abs. error | RMSE median | cov 50 / 90 | width 90 |"
        " best peer: median / mean (RMSE) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in sorted((HERE / "results").glob(f"*_{a.family}.json")):
        corpus, where = path.name.split("_")[:2]
        rows = [r for r in json.loads(path.read_text())["curves"] if "error" not in r]
        df = pd.DataFrame(rows)
        df["half"] = [half(corpus, c, a_ids) for c in df.curve]
        for h, g in [("all", df), *df.groupby("half")]:
            best = min(PEERS, key=lambda p, g=g: g[f"{p}_mae_final"].median())
            print(
                f"| {corpus} | {where} | {h} | {len(g)} | {g.mae_final.median():.4f} / {g.mae_final.mean():.4f} | "
                f"{g.rmse_heldout.median():.4f} | {g.coverage_50.mean():.3f} / {g.coverage_90.mean():.3f} | "
                f"{g.width_90.mean():.4f} | {best} {g[f'{best}_mae_final'].median():.4f} / "
                f"{g[f'{best}_mae_final'].mean():.4f} ({g[f'{best}_rmse_heldout'].median():.4f}) |"
            )


if __name__ == "__main__":
    main()
