"""Confirm the grid/importance-sampling posterior of the candidate (pow3, heteroscedastic noise) with real NUTS.

  OMP_NUM_THREADS=1 nice -n 15 python nuts_check.py [n_per_corpus]

Same model in PyMC, gamma continuous Uniform(0, 1) (the grid engine uses {0, .25, .5, .75, 1}); nutpie, 2 chains x 500
draws.  Compares the predictive median at the largest n / over the test rows and the 90 % band of the latent curve
(no discrepancy: that term is post hoc and identical in both).  Writes out/nuts_check.csv.
"""
import sys
import time
import warnings

import numpy as np
import pandas as pd

import corpora
import engine
from run_fits import CONFIGS

warnings.filterwarnings("ignore")
K = int(sys.argv[1]) if len(sys.argv) > 1 else 8


def pymc_fit(c, seed):
    import nutpie
    import pymc as pm
    import pytensor.tensor as pt

    n_ref, y_last, spread, _ = c.symbols()
    ns = max(0.02 * float(np.ptp(c.y)), 1e-4 * max(abs(float(c.y.mean())), 1e-3), 1e-6)
    x = c.n / n_ref
    B = c.best
    with pm.Model() as m:
        lo = c.lo if c.lo is not None else -np.inf
        hi = c.hi if c.hi is not None else np.inf
        y_ref = pm.TruncatedNormal("y_ref", mu=y_last, sigma=spread, lower=lo, upper=hi)
        room = pm.Beta("room", 1.0, 3.0)
        alpha = pm.LogNormal("alpha", -0.9, 0.8)
        sigma = pm.LogNormal("sigma", np.log(ns), 0.5)
        gamma = pm.Uniform("gamma", 0.0, 1.0)
        G = room * (B - y_ref)
        mu = y_ref + G * (1 - x ** (-alpha))
        pm.Normal("y", mu=mu, sigma=sigma * x ** (-gamma), observed=c.y)
    cm = nutpie.compile_pymc_model(m)
    tr = nutpie.sample(cm, draws=500, tune=500, chains=2, seed=seed, progress_bar=False, cores=1)
    post = tr.posterior
    div = int(tr.sample_stats["diverging"].sum())
    get = lambda k: post[k].values.ravel()
    return get("y_ref"), get("room"), get("alpha"), div


def main():
    rows = []
    tasks = corpora.load("scaling")[:: max(1, 36 // K)][:K] + corpora.load("acc010")[::30][:K] + corpora.load("logloss")[::50][:K]
    for i, t in enumerate(tasks):
        c = t["train"]
        t0 = time.time()
        yr, room, alpha, div = pymc_fit(c, i)
        secs = time.time() - t0
        n_ref = c.n.max()
        x = t["n_test"] / n_ref
        latn = yr[:, None] + (room * (c.best - yr))[:, None] * (1 - x[None, :] ** (-alpha[:, None]))
        p = engine.fit(c, "pow3", CONFIGS["pow3_het"]["prior"], ndraw=1000, seed=i)
        latg = p.latent(t["n_test"])
        qn = np.quantile(latn, [0.05, 0.5, 0.95], 0)
        qg = np.quantile(latg, [0.05, 0.5, 0.95], 0)
        scale = np.mean(qn[2] - qn[0])
        rows.append(dict(curve=t["curve"], div=div, secs=round(secs, 1),
                         med_final_nuts=qn[1, -1], med_final_grid=qg[1, -1], y_final=t["y_test"][-1],
                         rmse_nuts=float(np.sqrt(np.mean((qn[1] - t["y_test"]) ** 2))),
                         rmse_grid=float(np.sqrt(np.mean((qg[1] - t["y_test"]) ** 2))),
                         width_nuts=scale, width_grid=float(np.mean(qg[2] - qg[0])),
                         med_diff_over_width=float(np.mean(np.abs(qn[1] - qg[1])) / max(scale, 1e-12))))
        print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df.to_csv("out/nuts_check.csv", index=False)
    print(df.round(4).to_string())


if __name__ == "__main__":
    main()
