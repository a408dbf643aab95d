"""Fast near-exact posterior for anchored saturating learning-curve families.

Every family is written  f(x) = y_ref + G * (1 - r(x; theta)),  x = n / n_ref,
r(1) = 1, r -> 0 as x -> inf, so y_ref is the curve at n_ref and G = c - y_ref the
gain still to come (asymptote c); room = G / (B - y_ref) in (0, 1), B the metric's
best bound.  Given the shape theta and the noise sd sigma the model is linear in
beta = (y_ref, G).  Posterior = grid over (theta, sigma) x conjugate Gaussian in
beta under a Gaussian surrogate prior, then importance-corrected to the real prior
(TruncatedNormal on y_ref, Beta on room, support constraints), with a defensive
(2x wider) Gaussian mixture proposal.  Resampled to `ndraw` equally weighted draws.

Noise: y_i ~ N(f(x_i), sigma^2 / w_i(gamma)), with w_i = x_i^(2 gamma) (noise that
grows towards small n = principled down-weighting of far points); gamma may be a
grid parameter with its own prior (heteroscedastic model) or fixed (0 = homosc.).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats


# ----------------------------------------------------------------------------- families
def _lognorm_logpdf_log(t, mu, s):
    """log density of log(theta) when theta ~ LogNormal(mu, s): Normal on log scale."""
    return -0.5 * ((t - mu) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))


def _r_pow3(xq, th):
    return xq[None, :] ** (-th["alpha"][:, None])


def _r_pow4(xq, th):
    k = th["k"][:, None]
    return ((xq[None, :] + k) / (1.0 + k)) ** (-th["alpha"][:, None])


def _r_mmf(xq, th):
    # (1 + x0^-d) / (1 + (x/x0)^d): a sigmoid in log n from a start level to the asymptote
    d = th["alpha"][:, None]
    lx0 = np.log(th["k"][:, None])
    a = np.logaddexp(0.0, -d * lx0)
    b = np.logaddexp(0.0, d * (np.log(xq[None, :]) - lx0))
    return np.exp(a - b)


def _r_exp3(xq, th):
    return np.exp(-th["alpha"][:, None] * (xq[None, :] - 1.0))


R_FUN = {"pow3": _r_pow3, "pow4": _r_pow4, "mmf": _r_mmf, "exp3": _r_exp3}


def family_spec(name, x, opts):
    """dims: list of (param, lo, hi, n) on the log scale; logprior(dict of log values) -> array."""
    xmin = float(x.min())
    amu, asd = opts.get("alpha_mu"), opts.get("alpha_sd")
    if name == "pow3":
        dims = [("alpha", math.log(0.01), math.log(6.0), 60)]
        amu, asd = (-0.9 if amu is None else amu), (0.8 if asd is None else asd)
    elif name == "exp3":
        dims = [("alpha", math.log(0.01), math.log(50.0), 60)]
        amu, asd = 0.7, 1.0
    else:  # pow4 / mmf: shape alpha and a plateau location k (units of n_ref), log-uniform
        dims = [("alpha", math.log(0.02), math.log(10.0), 30), ("k", math.log(xmin) - 3.0, math.log(2.0), 30)]
        amu, asd = (-0.5 if amu is None else amu), (1.0 if asd is None else asd)

    def logprior(lt):
        return _lognorm_logpdf_log(lt["alpha"], amu, asd)

    return dims, logprior


def make_grid(dims, box=None):
    axes = []
    for j, (nm, lo, hi, n) in enumerate(dims):
        if box is not None:
            lo, hi = box[j]
        axes.append(np.linspace(lo, hi, n))
    mesh = np.meshgrid(*axes, indexing="ij")
    return {nm: m.ravel() for (nm, *_), m in zip(dims, mesh)}, axes


# ----------------------------------------------------------------------------- fitting
@dataclass
class Prior:
    room_a: float = 1.0
    room_b: float = 3.0
    noise_frac: float = 0.02  # noise_scale = frac * range(y)
    noise_sd: float = 0.5  # LogNormal sd of sigma around log noise_scale
    alpha_mu: float = -0.9
    alpha_sd: float = 0.8
    gammas: tuple = (0.0,)  # heteroscedastic exponents on a grid (w_i = x_i^(2 gamma))
    gamma_logprior: tuple | None = None
    recency: float = 0.0  # fixed extra down-weighting: w_i *= exp(-recency * log(n_ref/n_i)) (0 = none)
    window: float | None = None  # fit only points with n >= n_ref / window (None = all)


@dataclass
class Curve:
    n: np.ndarray
    y: np.ndarray
    inc: bool
    lo: float | None  # metric_min
    hi: float | None  # metric_max
    name: str = ""

    @property
    def sign(self):
        return 1.0 if self.inc else -1.0

    @property
    def best(self):
        return self.hi if self.inc else self.lo

    def symbols(self):
        n_ref = self.n.max()
        y_last = float(self.y[self.n == n_ref].mean())
        spread = max(float(np.ptp(self.y)), 0.05 * abs(y_last), 1e-3)
        noise = max(0.02 * float(np.ptp(self.y)), 1e-4 * max(abs(float(self.y.mean())), 1e-3), 1e-6)
        return n_ref, y_last, spread, noise


@dataclass
class Post:
    theta: dict
    y_ref: np.ndarray
    G: np.ndarray
    sigma: np.ndarray
    gamma: np.ndarray
    family: str
    r: object = field(repr=False)
    n_ref: float = 1.0
    ess: float = 0.0
    curve: Curve | None = field(default=None, repr=False)

    def latent(self, n):
        x = np.asarray(n, float) / self.n_ref
        rr = self.r(x, self.theta)
        return self.y_ref[:, None] + self.G[:, None] * (1.0 - rr)

    def sigma_at(self, n):
        x = np.minimum(np.asarray(n, float) / self.n_ref, 1.0)
        return self.sigma[:, None] * x[None, :] ** (-self.gamma[:, None])


def _trunc_norm_logpdf(v, mu, sd, lo, hi):
    a = -np.inf if lo is None else (lo - mu) / sd
    b = np.inf if hi is None else (hi - mu) / sd
    out = stats.truncnorm.logpdf(v, a, b, loc=mu, scale=sd)
    return out


def fit(curve: Curve, family: str = "pow3", prior: Prior | None = None, ndraw: int = 1000, seed: int = 0,
        nprop: int = 6000) -> Post:
    p = _fit(curve, family, prior, ndraw, seed, nprop)
    if p.ess < 100:
        p = _fit(curve, family, prior, ndraw, seed, nprop * 10)
    return p


def _fit(curve, family, prior, ndraw, seed, nprop):
    prior = prior or Prior()
    rng = np.random.default_rng(seed)
    n_ref, y_last, spread, noise_scale = curve.symbols()
    noise_scale = max(prior.noise_frac * float(np.ptp(curve.y)), 1e-4 * max(abs(float(curve.y.mean())), 1e-3), 1e-6)
    n_all, y_all = curve.n, curve.y
    if prior.window is not None:
        keep = n_all >= n_ref / prior.window
        if np.unique(n_all[keep]).size < 3:
            keep = n_all >= np.sort(np.unique(n_all))[-3]
        n_all, y_all = n_all[keep], y_all[keep]
    x = n_all / n_ref
    y = y_all
    m = y.size
    B = curve.best
    dims, logprior = family_spec(family, x, {"alpha_mu": prior.alpha_mu, "alpha_sd": prior.alpha_sd})
    rfun = R_FUN[family]
    lth, axes = make_grid(dims)
    L = _grid_logpost(lth, logprior, rfun, x, y, B, prior, y_last, spread, noise_scale)[0]
    # zoom: box around the cells holding 99.9 % of the mass, re-gridded at the same resolution
    P = np.exp(L - L.max()).sum(axis=(0, 2)).reshape([d[3] for d in dims])
    P /= P.sum()
    box = []
    for j, ax in enumerate(axes):
        marg = P.sum(axis=tuple(i for i in range(len(dims)) if i != j))
        cdf = np.cumsum(marg)
        i0 = max(int(np.searchsorted(cdf, 5e-4)) - 2, 0)
        i1 = min(int(np.searchsorted(cdf, 1 - 5e-4)) + 2, ax.size - 1)
        box.append((ax[i0], ax[i1]))
    lth, _ = make_grid(dims, box)
    return _sample(lth, logprior, rfun, x, y, B, prior, y_last, spread, noise_scale, curve, rng, ndraw, nprop, family, n_ref)


def _grid_logpost(lth, logprior, rfun, x, y, B, prior, y_last, spread, noise_scale):
    th = {k: np.exp(v) for k, v in lth.items()}
    lpt = logprior(lth)
    R = rfun(x, th)  # (T, m)
    T = R.shape[0]
    Z = 1.0 - R  # basis for G; basis for y_ref is 1
    # surrogate Gaussian prior on beta = (y_ref, G)
    D0 = B - y_last
    rm = prior.room_a / (prior.room_a + prior.room_b)
    rs = math.sqrt(prior.room_a * prior.room_b / ((prior.room_a + prior.room_b) ** 2 * (prior.room_a + prior.room_b + 1)))
    m0 = np.array([y_last, rm * D0])
    v0 = np.array([spread ** 2, (1.5 * rs * D0) ** 2 + (0.1 * spread) ** 2])
    gammas = np.asarray(prior.gammas, float)
    glp = np.zeros(gammas.size) if prior.gamma_logprior is None else np.asarray(prior.gamma_logprior, float)
    # sigma grid

    logs_lo = min(math.log(noise_scale) - 3.0 * prior.noise_sd - 1.0, math.log(max(np.std(np.diff(y)) / 10, 1e-8)))
    logs_lo = max(logs_lo, math.log(noise_scale) - 7.0)
    logs_hi = math.log(noise_scale) + 3.5 * prior.noise_sd + 1.0
    ls = np.linspace(logs_lo, logs_hi, 48)
    sig2 = np.exp(2 * ls)
    lps = -0.5 * ((ls - math.log(noise_scale)) / prior.noise_sd) ** 2  # density of log sigma (grid uniform in log)
    m = y.size
    L_all = []
    stats_g = []
    for gi, g in enumerate(gammas):
        w = x ** (2 * g)
        if prior.recency:
            w = w * np.exp(-prior.recency * np.log(1.0 / x))
        w = w / w.max()
        sw = w.sum()
        sz = np.sqrt((w[None, :] * Z * Z).sum(1) / sw) + 1e-300  # per-theta scale of the G basis
        Zs = Z / sz[:, None]
        v1 = v0[1] * sz ** 2  # prior var of G' = G * sz
        m1 = m0[1] * sz
        e = y[None, :] - m0[0] - m1[:, None] * Zs  # (T, m)
        a00 = sw
        zbar = (w[None, :] * Zs).sum(1) / sw
        a01 = sw * zbar
        a11 = (w[None, :] * Zs * Zs).sum(1)
        detA = sw * (w[None, :] * (Zs - zbar[:, None]) ** 2).sum(1)
        u0 = (w[None, :] * e).sum(1)
        u1 = (w[None, :] * e * Zs).sum(1)
        s2 = sig2[None, :]
        p00 = 1 / v0[0] + a00 / s2
        p01 = a01[:, None] / s2
        p11 = 1 / v1[:, None] + a11[:, None] / s2
        det = (1 / (v0[0] * v1[:, None]) + a00 / (s2 * v1[:, None]) + a11[:, None] / (s2 * v0[0]) + detA[:, None] / s2 ** 2)
        uu0 = u0[:, None] / s2
        uu1 = u1[:, None] / s2
        c00, c01, c11 = p11 / det, -p01 / det, p00 / det
        d0 = c00 * uu0 + c01 * uu1
        d1 = c01 * uu0 + c11 * uu1
        res = e[:, None, :] - d0[:, :, None] - d1[:, :, None] * Zs[:, None, :]
        quad = (w * res ** 2).sum(2) / s2 + d0 ** 2 / v0[0] + d1 ** 2 / v1[:, None]
        logdet = m * np.log(s2) - np.log(w).sum() + math.log(v0[0]) + np.log(v1)[:, None] + np.log(det)
        L = -0.5 * quad - 0.5 * logdet + lpt[:, None] + lps[None, :] + glp[gi]
        L_all.append(L)
        stats_g.append((c00, c01, c11, d0, d1, sz, m1))
    L_all = np.stack(L_all)  # (Gm, T, S)
    return L_all, stats_g, th, m0, v0, gammas, ls


def _sample(lth, logprior, rfun, x, y, B, prior, y_last, spread, noise_scale, curve, rng, ndraw, nprop, family, n_ref):
    L_all, stats_g, th, m0, v0, gammas, ls = _grid_logpost(lth, logprior, rfun, x, y, B, prior, y_last, spread, noise_scale)
    flat = L_all.ravel()
    flat = np.where(np.isfinite(flat), flat, -np.inf)
    pc = np.exp(flat - flat.max())
    pc /= pc.sum()
    idx = rng.choice(flat.size, size=nprop, p=pc)
    gi, ti, si = np.unravel_index(idx, L_all.shape)
    # conditional posterior of beta' = (y_ref, G*sz) per drawn cell
    mu = np.empty((nprop, 2))
    cov = np.empty((nprop, 3))
    szd = np.empty(nprop)
    for g in np.unique(gi):
        sel = gi == g
        c00, c01, c11, d0, d1, sz, m1 = stats_g[g]
        t, s = ti[sel], si[sel]
        mu[sel, 0] = m0[0] + d0[t, s]
        mu[sel, 1] = m1[t] + d1[t, s]
        cov[sel] = np.stack([c00[t, s], c01[t, s], c11[t, s]], 1)
        szd[sel] = sz[t]
    # defensive mixture: scale 1 or 2
    wide = rng.random(nprop) < 0.3
    sc = np.where(wide, 2.0, 1.0)
    l00 = np.sqrt(cov[:, 0])
    l10 = cov[:, 1] / l00
    l11 = np.sqrt(np.maximum(cov[:, 2] - l10 ** 2, 1e-300))
    z1, z2 = rng.standard_normal(nprop), rng.standard_normal(nprop)
    b0 = mu[:, 0] + sc * l00 * z1
    b1 = mu[:, 1] + sc * (l10 * z1 + l11 * z2)
    # log N(beta; mu, cov) (scale 1) and proposal mixture density
    q1 = z1 ** 2 + z2 ** 2  # Mahalanobis^2 under the sampled scale
    maha1 = q1 * sc ** 2  # under scale 1
    logdetc = np.log(l00) + np.log(l11)
    ln1 = -0.5 * maha1 - logdetc
    ln2 = -0.5 * maha1 / 4.0 - logdetc - math.log(4.0)
    lq = np.logaddexp(math.log(0.7) + ln1, math.log(0.3) + ln2)
    # true prior / surrogate prior
    yref, G = b0, b1 / szd
    Dd = B - yref
    room = G / Dd
    ok = (room > 0) & (room < 1)
    if curve.lo is not None:
        ok &= yref > curve.lo
    if curve.hi is not None:
        ok &= yref < curve.hi
    th_d = {k: v[ti] for k, v in th.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        lt = (_trunc_norm_logpdf(yref, y_last, spread, curve.lo, curve.hi)
              + stats.beta.logpdf(np.clip(room, 1e-300, 1 - 1e-16), prior.room_a, prior.room_b) - np.log(np.abs(Dd)))
        ls_ = (-0.5 * (yref - m0[0]) ** 2 / v0[0] - 0.5 * (G - m0[1]) ** 2 / v0[1])
    lw = np.where(ok, lt - ls_ + ln1 - lq, -np.inf)
    if not np.isfinite(lw).any():
        # nothing inside the support: project (room at its edge)
        lw = np.zeros(nprop)
        fallback = True
        room_c = np.clip(room, 1e-4, 1 - 1e-4)
        G = room_c * Dd
    else:
        fallback = False
    wts = np.exp(lw - lw.max())
    wts /= wts.sum()
    ess = 1.0 / np.sum(wts ** 2)
    pick = rng.choice(nprop, size=ndraw, p=wts)
    sig = np.exp(ls[si[pick]] + (rng.random(ndraw) - 0.5) * (ls[1] - ls[0]))
    return Post(theta={k: v[pick] for k, v in th_d.items()}, y_ref=yref[pick], G=G[pick], sigma=sig,
                gamma=gammas[gi[pick]], family=family, r=rfun, n_ref=n_ref, ess=float(ess) if not fallback else -1.0, curve=curve)
