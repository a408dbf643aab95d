"""Score stored fits (out/fits_CONFIG_CORPUS.pkl) under a discrepancy model.

Discrepancy beyond n_ref (L = log(n / n_ref)):
    delta(n) = z * h(L) * sqrt((kappa * D)^2 + (lam * F)^2),  z ~ t_nu,  h(L) = ell (1 - exp(-L/ell))
    D = sqrt(room_to_bound * spread) (per draw; today's default: kappa = 0.1, lam = 0, nu = 2, ell = 3)
    F = a per-curve misfit feature (see run_fits.py): 'llo', 'llo_c', 'rms_resid', 'rms_last', 'sigma_med'
Measured draws = clip(latent + delta + sigma * eps).  Point forecast = median of the measured draws.
"""
from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pandas as pd
from scipy import special, stats

M4 = pd.read_csv("/work/shared/benchmarks/scaling_ic_dev_peer_rmse.csv").set_index("curve")


def load(config, corpus):
    with open(f"out/fits_{config}_{corpus}.pkl", "rb") as f:
        return pickle.load(f)


def _t_logpdf(z, nu):
    return (math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
            - (nu + 1) / 2 * np.log1p(z * z / nu))


def _feat(t, feat):
    if feat + "_draw" in t:  # mixtures: each component's own feature, per draw
        return t[feat + "_draw"]
    if feat == "rl_sig":  # scatter of the last e-fold around the fit, floored by the posterior noise sd
        return float(np.hypot(t["rms_last"], t["sigma_med"]))
    if feat == "rl_dof":  # degrees-of-freedom corrected residual scatter of the last e-fold
        m = t["m"]
        return float(t["rms_last"] * np.sqrt(m / max(m - 3, 0.5)))
    return t.get(feat, 0.0)


def evaluate_task(t, disc, seed=0, want_draws=False):
    kappa, lam, nu, ell, feat = disc.get("kappa", 0.1), disc.get("lam", 0.0), disc.get("nu", 2.0), disc.get("ell", 3.0), disc.get("feat", "llo")
    lat = t["lat"].astype(float)
    nd, nt = lat.shape
    L = np.log(t["n_test"] / t["n_ref"])
    h = (ell * -np.expm1(-np.maximum(L, 0) / ell)) ** disc.get("p", 1.0)
    D = np.sqrt(t["room"].astype(float) * t["spread"])
    F = _feat(t, feat) if lam else 0.0
    F = np.nan_to_num(np.asarray(F, float), nan=0.0)  # too few points for the feature: the kappa * D term alone
    kD = kappa * D / max(t["m"] - 2, 1) ** disc.get("q", 0.0)  # q > 0: the room term fades as points accrue
    sc = np.sqrt(kD ** 2 + (lam * F) ** 2)[:, None] * h[None, :]
    rng = np.random.default_rng(seed)
    z = rng.standard_t(nu, nd) if np.isfinite(nu) else rng.standard_normal(nd)
    sig = t["sigma"].astype(float)[:, None]
    draws = lat + z[:, None] * sc + sig * rng.standard_normal((nd, nt))
    lo, hi = t["lo"], t["hi"]
    draws = np.clip(draws, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    y = t["y_test"]
    q = np.quantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    med = q[2]
    fin = t["n_test"] == t["n_final"]
    out = {
        "curve": t["curve"], "split": t["split"],
        "err_final": float(abs(med[fin].mean() - y[fin].mean())),
        "rmse": float(np.sqrt(np.mean((med - y) ** 2))),
        "cov90": float(np.mean((y >= q[0]) & (y <= q[4]))),
        "cov50": float(np.mean((y >= q[1]) & (y <= q[3]))),
        "width90": float(np.mean(q[4] - q[0])),
        "pred_final": float(med[fin].mean()), "y_final": float(y[fin].mean()),
    }
    # log predictive density: mixture over draws of t_nu(lat, sqrt(sc^2 + sigma^2)) (normal if sc = 0)
    s = np.sqrt(sc ** 2 + sig ** 2)
    zz = (y[None, :] - lat) / s
    if kappa == 0 and lam == 0:
        lp = -0.5 * zz ** 2 - np.log(s) - 0.5 * math.log(2 * math.pi)
    else:
        lp = _t_logpdf(zz, nu) - np.log(s)
    out["lpd"] = float(np.mean(special.logsumexp(lp, axis=0) - math.log(nd)))
    # CRPS (sample estimate, on a thinned draw set)
    dd = np.sort(draws[:: max(1, nd // 250)], axis=0)
    k = dd.shape[0]
    e1 = np.mean(np.abs(dd - y[None, :]), 0)
    wts = (2 * np.arange(1, k + 1) - k - 1)[:, None]
    e2 = np.sum(wts * dd, 0) / (k * k)
    out["crps"] = float(np.mean(e1 - e2))
    if want_draws:
        out["draws"] = draws
    return out


def evaluate(fits, disc, split=None, nseed=1):
    """Per-task scores; with nseed > 1 the Monte-Carlo draws of z and eps are repeated and the scores averaged."""
    out = None
    for s in range(nseed):
        rows = [evaluate_task(t, disc, seed=i + 100003 * s) for i, t in enumerate(fits) if split is None or t["split"] == split]
        df = pd.DataFrame(rows)
        if out is None:
            out = df
        else:
            num = df.select_dtypes("number").columns
            out[num] = out[num] + df[num]
    num = out.select_dtypes("number").columns
    out[num] = out[num] / nseed
    return out


def summarize(df, corpus):
    s = {"n": len(df), "med_err": df.err_final.median(), "mean_err": df.err_final.mean(),
         "cov90": df.cov90.mean(), "cov50": df.cov50.mean(), "width90": df.width90.mean(),
         "crps": df.crps.mean(), "lpd": df.lpd.mean()}
    if corpus == "scaling":
        s["med_rmse"] = df.rmse.median()
        s["mean_rmse"] = df.rmse.mean()
        s["M4_med"] = float(M4.loc[df.curve, "M4_rmse"].median())
        s["width/medrmse"] = s["width90"] / s["med_rmse"]
    return s


def peers(corpus, curves):
    """Peer errors (least-squares, from peers_ls.py --rows) on the same curves."""
    if corpus == "scaling":
        return {"M4": float(M4.loc[curves, "M4_rmse"].median())}
    key = corpus if corpus in ("acc005", "acc010", "acc020", "logloss", "seed") else None
    if key is None:
        return {}
    d = json.load(open(f"out/peers_{key}.json"))
    rows = pd.DataFrame(d["rows"]).set_index("curve").loc[list(curves)]
    out = {}
    for m in ["last", "log", "pow3", "pow4", "mmf4", "wbl4"]:
        e = (rows[m] - rows["truth"]).abs()
        out[m] = (float(e.median()), float(e.mean()))
    return out


def lpd_task(t, disc):
    """Mean log predictive density of the held-out rows (fast path for tuning)."""
    kappa, lam, nu, ell, feat = disc.get("kappa", 0.1), disc.get("lam", 0.0), disc.get("nu", 2.0), disc.get("ell", 3.0), disc.get("feat", "llo")
    lat = t["lat"]
    L = np.log(t["n_test"] / t["n_ref"])
    h = (ell * -np.expm1(-np.maximum(L, 0) / ell)) ** disc.get("p", 1.0)
    D = np.sqrt(t["room"].astype(float) * t["spread"])
    F = _feat(t, feat) if lam else 0.0
    F = np.nan_to_num(np.asarray(F, float), nan=0.0)
    kD = kappa * D / max(t["m"] - 2, 1) ** disc.get("q", 0.0)  # q > 0: the room term fades as points accrue
    sc = np.sqrt(kD ** 2 + (lam * F) ** 2)[:, None] * h[None, :]
    sig = t["sigma"].astype(float)[:, None]
    s = np.sqrt(sc ** 2 + sig ** 2)
    zz = (t["y_test"][None, :] - lat) / s
    lp = _t_logpdf(zz, nu) - np.log(s)
    return float(np.mean(special.logsumexp(lp, axis=0) - math.log(lat.shape[0])))
