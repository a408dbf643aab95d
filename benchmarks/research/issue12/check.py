"""Leave-last-out predictive check: do the last observed points contradict the fit of the earlier ones?

  nice -n 15 python check.py [config]

Statistics (predictive = the full candidate model incl. discrepancy and noise, fitted without the held-out points):
  p_last  : two-sided predictive tail probability of the last point (fit on all earlier points)
  s_third : mean of -log10 p_j over the points in the last third of the log-n range (fit on the first two thirds)
Flag when p_last < T1 or s_third > T2.  Thresholds chosen for a low false-alarm rate on the real dev curves
(LCDB accuracy 0.1 cut, LCDB log-loss, scaling fit rows, seed), detection measured on synthetic contradictions.
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

import corpora
from engine import Curve
from forecaster import forecast

CONFIG = sys.argv[1] if len(sys.argv) > 1 else "ens"


def tailp(draws, y):
    N = draws.shape[0]
    below = (np.sum(draws < y[None, :], 0) + 0.5) / (N + 1)
    return 2 * np.minimum(below, 1 - below)


def ratio(draws, y):
    """|y - median| in units of the half-width of the 90 % predictive band."""
    q05, q50, q95 = np.quantile(draws, [0.05, 0.5, 0.95], 0)
    return np.abs(y - q50) / np.maximum((q95 - q05) / 2, 1e-12)


def stats(c: Curve):
    out = {}
    # leave the last point out
    keep = c.n < c.n.max()
    if np.unique(c.n[keep]).size >= 3:
        sub = Curve(c.n[keep], c.y[keep], c.inc, c.lo, c.hi)
        d, _, _ = forecast(sub, c.n[~keep], CONFIG, ndraw=600)
        out["p_last"] = float(np.min(tailp(d, c.y[~keep])))
        out["r_last"] = float(np.max(ratio(d, c.y[~keep])))
    else:
        out["p_last"], out["r_last"] = 1.0, 0.0
    ln = np.log(c.n)
    cut = ln.min() + 2 / 3 * (ln.max() - ln.min())
    keep = ln <= cut + 1e-9
    if np.unique(c.n[keep]).size >= 3 and not keep.all():
        sub = Curve(c.n[keep], c.y[keep], c.inc, c.lo, c.hi)
        d, _, _ = forecast(sub, c.n[~keep], CONFIG, ndraw=600)
        out["s_third"] = float(np.mean(-np.log10(tailp(d, c.y[~keep]))))
        out["r_third"] = float(np.mean(ratio(d, c.y[~keep])))
    else:
        out["s_third"], out["r_third"] = 0.0, 0.0
    return out


def bnsl(n, d, a=0.02, b=0.98, c=1.0, f=0.1):
    return a + (b - a) * (1 + (n / d) ** (1 / f)) ** (-c * f)


def synthetic():
    rng = np.random.default_rng(0)
    cases = []
    n = 2.0 ** np.arange(8, 19)  # 256 .. 262144 (11 points)
    targets = 2.0 ** np.array([20, 22, 24])
    for k_after in (2, 1, 0, -1):  # number of observed points past the break (-1: break after the data)
        d = n[-1 - k_after] if k_after >= 0 else 2 * n[-1]
        for rep in range(3):
            y = np.clip(bnsl(n, d) + 0.005 * rng.standard_normal(n.size), 0, 1)
            cases.append((f"break_{k_after}pts_r{rep}", Curve(n, y, False, 0.0, 1.0), targets, bnsl(targets, d)))
    # accuracy that turns down at the end (over-fitting dip) -- the last 2 points fall
    for rep in range(3):
        y = 0.9 - 0.5 * (n / n[0]) ** -0.4
        y[-2:] -= np.array([0.03, 0.07])
        y = y + 0.004 * rng.standard_normal(n.size)
        cases.append((f"dip_r{rep}", Curve(n, y, True, 0.0, 1.0), targets, 0.9 - 0.5 * (targets / n[0]) ** -0.4 - 0.1))
    # emergent / accelerating accuracy: logistic in log n, data end at the steep part
    for rep in range(3):
        f = lambda m: 0.1 + 0.85 / (1 + np.exp(-1.5 * (np.log(m) - np.log(n[-2]))))
        y = f(n) + 0.004 * rng.standard_normal(n.size)
        cases.append((f"emergent_r{rep}", Curve(n, np.clip(y, 0, 1), True, 0.0, 1.0), targets, f(targets)))
    # sudden plateau (benign: the fit should follow it, not flag): pow3 then flat over the last 3 points
    for rep in range(3):
        y = 0.9 - 0.5 * (n / n[0]) ** -0.4
        y[-3:] = y[-4]
        y = y + 0.003 * rng.standard_normal(n.size)
        cases.append((f"plateau_r{rep}", Curve(n, y, True, 0.0, 1.0), targets, np.full(3, y[-4])))
    return cases


def main():
    rows = []
    for name, c, nt, yt in synthetic():
        s = stats(c)
        d, _, _ = forecast(c, nt, CONFIG)
        lo, hi = np.quantile(d, [0.05, 0.95], 0)
        s.update(case=name, inside90=int(np.sum((yt >= lo) & (yt <= hi))), err=float(np.mean(np.abs(np.median(d, 0) - yt))))
        rows.append(s)
    syn = pd.DataFrame(rows)
    real = []
    for corpus in ["acc010", "logloss", "scaling", "seed"]:
        ts = corpora.load(corpus)
        if corpus == "logloss":
            ts = ts[::2]  # every other log-loss curve (time)
        for t in ts:
            s = stats(t["train"])
            s.update(case=t["curve"], corpus=corpus)
            real.append(s)
    real = pd.DataFrame(real)
    syn.to_csv(f"out/check_syn_{CONFIG}.csv", index=False)
    real.to_csv(f"out/check_real_{CONFIG}.csv", index=False)
    print(syn.round(4).to_string())
    for T1, T2 in [(2.0, 2.0), (2.5, 2.5), (3.0, 3.0), (4.0, 4.0), (3.0, 2.0), (4.0, 2.5)]:
        fr = real.groupby("corpus").apply(lambda g: float(np.mean((g.r_last > T1) | (g.r_third > T2))))
        det = (syn.r_last > T1) | (syn.r_third > T2)
        print(f"T1={T1} T2={T2}: false alarms {fr.round(3).to_dict()}; flagged synthetic:",
              syn.case[det].str.replace('_r\\d', '', regex=True).value_counts().to_dict())


if __name__ == "__main__":
    main()
