"""Empirical-Bayes calibration of the model-discrepancy term on a dev corpus.

Fits every curve once (discrepancy off) on the rows with n <= cutoff * max(n),
then scores held-out coverage of the measured predictive for a grid of
(kappa, nu). Usage:

    python benchmarks/tune_discrepancy.py CURVES.csv [--cutoff 0.1] [--family pow3] [--every 1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pickle
import warnings

import numpy as np


def _fit_one(args):
    name, n, y, dec, cutoff, family = args
    import curvecast as cc
    from curvecast.backtest import split
    from curvecast.data import CurveData

    data = CurveData(n, y, increasing=not dec, name=name)
    train, n_out, y_out = split(data, cutoff)
    if train is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cc.fit(data=train, family=family, discrepancy=False, seed=0, cores=1)
    return name, f.params_, train, n_out, y_out, f.family.name, f.priors, f.diagnostics


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--cutoff", type=float, default=0.1)
    ap.add_argument("--family", default="pow3")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--decreasing", action="store_true")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--w", default="1.0", help="comma-separated w_room values")
    ap.add_argument("--kappa", default="0,0.01,0.02,0.03,0.04,0.06,0.08", help="comma-separated kappa values")
    a = ap.parse_args()
    from curvecast.data import load_curves

    if a.cache and os.path.exists(a.cache):
        with open(a.cache, "rb") as fh:
            fits = pickle.load(fh)
    else:
        curves = list(load_curves(a.csv).items())[:: a.every]
        tasks = [(k, n, y, a.decreasing, a.cutoff, a.family) for k, (n, y) in curves]
        with mp.get_context("spawn").Pool(os.cpu_count() or 1) as pool:
            fits = [r for r in pool.map(_fit_one, tasks, chunksize=1) if r is not None]
        if a.cache:
            with open(a.cache, "wb") as fh:
                pickle.dump(fits, fh)
    from curvecast.discrepancy import Discrepancy
    from curvecast.families import get_family
    from curvecast.results import CurveFit
    from curvecast.scores import crps_samples

    print(f"{len(fits)} curves")
    print("kappa  nu   cov50  cov80  cov90  mae_final_med  crps")
    grid_w = [float(v) for v in a.w.split(",")]
    grid_k = [float(v) for v in a.kappa.split(",")]
    for nu, w in [(nu, w) for nu in (2.0, 3.0) for w in grid_w]:
        print(f"-- nu={nu} w_room={w}")
        for kappa in grid_k:
            cov = {50: [], 80: [], 90: []}
            crps, err = [], []
            for _name, params, train, n_out, y_out, fam, priors, diag in fits:
                disc = Discrepancy(kappa=kappa, nu=nu, w_room=w)
                p = dict(params)
                p["disc_z"] = disc.draw(p["sigma"].size, 0)
                f = CurveFit(get_family(fam), train, priors, p, diag, {"discrepancy": disc.to_dict()})
                draws = f.measured(n_out, seed=0)
                for lv in cov:
                    lo, hi = np.quantile(draws, [(1 - lv / 100) / 2, 1 - (1 - lv / 100) / 2], axis=0)
                    cov[lv].append(np.mean((y_out >= lo) & (y_out <= hi)))
                crps.append(np.mean(crps_samples(draws, y_out)))
                last = n_out == n_out.max()
                err.append(abs(np.median(draws[:, last]) - y_out[last].mean()))
            print(
                f"{kappa:5.2f} {nu:4.1f}  {np.mean(cov[50]):.3f}  {np.mean(cov[80]):.3f}  {np.mean(cov[90]):.3f}"
                f"  {np.median(err):.4f}  {np.mean(crps):.4f}"
            )


if __name__ == "__main__":
    main()
