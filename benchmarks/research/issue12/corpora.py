"""Dev corpora as (train Curve, test n, test y) tasks, with tune/holdout splits.

Splits (fixed, seed 0):
  LCDB (accuracy and log-loss): OpenML data-set ids shuffled, first half = 'A' (tune), rest = 'B' (holdout)
  scaling_ic: model family BiT + MiX = 'A', ViT = 'B'
  seed COCO/BDD, Partin: 'B' only (never tuned on).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine import Curve

BENCH = "/work/shared/benchmarks/"
SLACK = 1e-3


def _ids_split(ids):
    u = np.array(sorted(set(ids)))
    rng = np.random.default_rng(0)
    p = rng.permutation(u.size)
    a = set(u[p[: u.size // 2]])
    return a


def _lcdb_id(c):
    return int(c.split("-")[1])


def _cutoff_tasks(df, cutoff, inc, lo, hi, split_of):
    out = []
    for c, g in df.groupby("curve", sort=True):
        g = g.sort_values("n")
        if "seed" in g:
            gg = g
        else:
            gg = g.groupby("n", as_index=False).metric.mean()
        n = gg.n.to_numpy(float)
        y = gg.metric.to_numpy(float)
        nmax = n.max()
        tr = n <= cutoff * nmax * (1 + SLACK)
        if np.unique(n[tr]).size < 3 or tr.all():
            continue
        out.append(dict(curve=c, train=Curve(n[tr], y[tr], inc, lo, hi, c), n_test=n[~tr], y_test=y[~tr],
                        n_final=nmax, split=split_of(c)))
    return out


_LCDB_A = None


def lcdb_split(c):
    global _LCDB_A
    if _LCDB_A is None:
        d = pd.read_csv(BENCH + "lcdb_accuracy_dev_all.csv.gz", usecols=["curve"])
        ids = [_lcdb_id(x) for x in d.curve.unique()]
        ids += [_lcdb_id(x) for x in pd.read_csv(BENCH + "lcdb_logloss_dev.csv", usecols=["curve"]).curve.unique()]
        _LCDB_A = _ids_split(ids)
    return "A" if _lcdb_id(c) in _LCDB_A else "B"


def lcdb_acc(cutoff=0.1, which="dev"):
    f = "lcdb_accuracy_dev.csv" if which == "dev" else "lcdb_accuracy_dev_all.csv.gz"
    return _cutoff_tasks(pd.read_csv(BENCH + f), cutoff, True, 0.0, 1.0, lcdb_split)


def lcdb_logloss(cutoff=0.1):
    return _cutoff_tasks(pd.read_csv(BENCH + "lcdb_logloss_dev.csv"), cutoff, False, 0.0, None, lcdb_split)


def seed(cutoff=0.05):
    return _cutoff_tasks(pd.read_csv(BENCH + "seed_coco_bdd_map.csv"), cutoff, True, 0.0, 1.0, lambda c: "B")


def partin(cutoff=0.1):
    d = pd.read_csv(BENCH + "partin_drug_response_mae_dev.csv")
    d = d.rename(columns={"metric": "name", "metric.1": "metric"})
    return _cutoff_tasks(d[["curve", "n", "seed", "metric"]], cutoff, False, 0.0, None, lambda c: "B")


def scaling_ic():
    d = pd.read_csv(BENCH + "scaling_ic_dev.csv")
    out = []
    for c, g in d.groupby("curve", sort=True):
        g = g.sort_values("n")
        f, t = g[g.fit == 1], g[g.fit == 0]
        out.append(dict(curve=c, train=Curve(f.n.to_numpy(float), f.metric.to_numpy(float), False, 0.0, 1.0, c),
                        n_test=t.n.to_numpy(float), y_test=t.metric.to_numpy(float), n_final=float(g.n.max()),
                        split="B" if "ViT" in c else "A"))
    return out


def load(name):
    if name.startswith("acc"):  # acc010, acc005, acc020, accall010
        which = "all" if name.startswith("accall") else "dev"
        return lcdb_acc(int(name[-3:]) / 100, which)
    return {"logloss": lcdb_logloss, "scaling": scaling_ic, "seed": seed, "partin": partin}[name]()
