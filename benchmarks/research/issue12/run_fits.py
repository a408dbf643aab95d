"""Fit one model configuration on every dev corpus and store what scoring needs.

  nice -n 15 python run_fits.py CONFIG [corpus ...]

CONFIG names an entry of CONFIGS below (family + engine.Prior options).  For each
task: latent draws at the held-out n (without discrepancy), sigma draws, the
room to the bound at n_ref per draw, the observed spread, and per-curve misfit
features (leave-last-third-out normalised error of the same model; posterior
sigma).  Saved to out/fits_CONFIG_CORPUS.pkl.
"""
from __future__ import annotations

import math
import os
import pickle
import sys
import time

import numpy as np

import corpora
import engine
from engine import Curve, Prior

NDRAW = 500
ELL = 3.0
GAM = (0.0, 0.25, 0.5, 0.75, 1.0)

CONFIGS = {
    "pow3": dict(family="pow3", prior=Prior()),
    "pow4": dict(family="pow4", prior=Prior()),
    "mmf": dict(family="mmf", prior=Prior()),
    "exp3": dict(family="exp3", prior=Prior()),
    # recency / heteroscedastic noise: sigma_i = sigma * x_i^-gamma, gamma on a grid with a flat prior
    "pow3_het": dict(family="pow3", prior=Prior(gammas=GAM)),
    "mmf_het": dict(family="mmf", prior=Prior(gammas=GAM)),
    "pow4_het": dict(family="pow4", prior=Prior(gammas=GAM)),
    # fixed recency weights w_i = x_i^rho (rho = 0.5)
    "pow3_rec": dict(family="pow3", prior=Prior(recency=0.5)),
    # last decade only
    "pow3_win": dict(family="pow3", prior=Prior(window=10.0)),
    "mmf_win": dict(family="mmf", prior=Prior(window=10.0)),
    # room priors
    "pow3_r11": dict(family="pow3", prior=Prior(room_a=1.0, room_b=1.0)),
    "pow3_r13n": dict(family="pow3", prior=Prior(room_a=1.0, room_b=3.0, noise_sd=1.0)),
    "pow3_r15": dict(family="pow3", prior=Prior(room_a=1.0, room_b=5.0)),
    "pow3_r110": dict(family="pow3", prior=Prior(room_a=1.0, room_b=10.0)),
    "pow3_r0515": dict(family="pow3", prior=Prior(room_a=0.5, room_b=1.5)),
    "mmf_r15": dict(family="mmf", prior=Prior(room_a=1.0, room_b=5.0)),
    "mmf_r110": dict(family="mmf", prior=Prior(room_a=1.0, room_b=10.0)),
    "mmf_het_r15": dict(family="mmf", prior=Prior(room_a=1.0, room_b=5.0, gammas=GAM)),
    "pow4_het_r15": dict(family="pow4", prior=Prior(room_a=1.0, room_b=5.0, gammas=GAM)),
    "pow3_het_r15": dict(family="pow3", prior=Prior(room_a=1.0, room_b=5.0, gammas=GAM)),
    "pow3_het_r110": dict(family="pow3", prior=Prior(room_a=1.0, room_b=10.0, gammas=GAM)),
    "pow3_het_r11": dict(family="pow3", prior=Prior(room_a=1.0, room_b=1.0, gammas=GAM)),
    "pow3_het_r22": dict(family="pow3", prior=Prior(room_a=2.0, room_b=2.0, gammas=GAM)),
    "pow4_het_r11": dict(family="pow4", prior=Prior(room_a=1.0, room_b=1.0, gammas=GAM)),
    "pow3_het_n1": dict(family="pow3", prior=Prior(gammas=GAM, noise_sd=1.5)),
}

CORPORA = ["acc005", "acc010", "acc020", "logloss", "scaling", "seed", "partin", "accallA"]


def h(L, ell=ELL):
    return ell * -np.expm1(-np.maximum(L, 0.0) / ell)


def llo_feature(curve: Curve, family, prior, frac=2 / 3):
    """Fit on the first `frac` of the log-n range, predict the rest; mean squared error / h(L)^2."""
    ln = np.log(curve.n)
    cut = ln.min() + frac * (ln.max() - ln.min())
    tr = ln <= cut + 1e-9
    if np.unique(curve.n[tr]).size < 3 or tr.all():
        return np.nan, np.nan
    sub = Curve(curve.n[tr], curve.y[tr], curve.inc, curve.lo, curve.hi)
    p = engine.fit(sub, family, prior, ndraw=200, seed=1)
    nt = curve.n[~tr]
    pred = np.median(p.latent(nt), 0)
    L = np.log(nt / sub.n.max())
    hh = h(L)
    e = curve.y[~tr] - pred
    sig = float(np.median(p.sigma))
    return float(np.sqrt(np.mean((e / hh) ** 2))), float(np.sqrt(np.mean(np.maximum(e ** 2 - sig ** 2, 0.0) / hh ** 2)))


def load_tasks(corpus):
    if corpus == "accallA":
        T = corpora.load("accall010")
        dev = {t["curve"] for t in corpora.load("acc010")}
        T = [t for t in T if t["split"] == "A" and t["curve"] not in dev]
        rng = np.random.default_rng(0)
        T = [T[i] for i in sorted(rng.choice(len(T), size=min(500, len(T)), replace=False))]
        return T
    return corpora.load(corpus)


def run(config, corpus):
    cfg = CONFIGS[config]
    fam, prior = cfg["family"], cfg["prior"]
    T = load_tasks(corpus)
    out = []
    t0 = time.time()
    for i, t in enumerate(T):
        c = t["train"]
        p = engine.fit(c, fam, prior, ndraw=NDRAW, seed=i)
        nt = t["n_test"]
        lat = p.latent(nt).astype(np.float32)
        n_ref, y_last, spread, _ = c.symbols()
        room = np.abs(c.best - p.y_ref)
        resid = c.y - np.median(p.latent(c.n), 0)
        last = np.log(c.n) >= np.log(n_ref) - 1.0  # points in the last e-fold
        f_llo, f_llo_c = llo_feature(c, fam, prior)
        out.append(dict(
            curve=t["curve"], split=t["split"], n_test=nt, y_test=t["y_test"], n_final=t["n_final"], n_ref=n_ref,
            lat=lat, sigma=p.sigma.astype(np.float32), room=room.astype(np.float32), spread=spread,
            y_last=y_last, lo=c.lo, hi=c.hi, inc=c.inc, ess=p.ess, m=c.n.size,
            rms_resid=float(np.sqrt(np.mean(resid ** 2))), rms_last=float(np.sqrt(np.mean(resid[last] ** 2))),
            llo=f_llo, llo_c=f_llo_c, sigma_med=float(np.median(p.sigma)),
            lat_ref=np.median(p.latent(np.array([n_ref])), 0)[0],
        ))
    with open(f"out/fits_{config}_{corpus}.pkl", "wb") as f:
        pickle.dump(out, f)
    return len(T), time.time() - t0


if __name__ == "__main__":
    config = sys.argv[1]
    cs = sys.argv[2:] or CORPORA
    for c in cs:
        n, s = run(config, c)
        print(f"{config} {c}: {n} curves in {s:.0f}s", flush=True)
