"""Contract tests over every registered curve family (no MCMC sampling).

Tiers (see STYLE.md): exact values of the mean at hand-picked parameters, then
contracts every family must honour: the inverse undoes the mean, unreachable
targets map to ``inf``, prior predictive curves respect the metric's bounds,
and the model's log-density gradient is finite at the initial point.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import numpy as np
import pytest
from scipy import stats

from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.families import REGISTRY, Family, Scale, get_family
from curvecast.prior_sets import merged_priors
from curvecast.priors import Prior

FAMILIES = [pytest.param(fam, id=name) for name, fam in REGISTRY.items()]

#: the seed blog's COCO mAP curve: a realistic increasing metric in [0, 1]
MAP_N = [1183, 2957, 5914, 11829]
MAP_Y = [0.191, 0.262, 0.323, 0.376]

N_GRID = np.array([100.0, 1e3, 1e4, 1e5, 1e6])


# ---------------------------------------------------------------------------
# helpers: scipy stand-ins for the default priors
# ---------------------------------------------------------------------------
def _scipy_dist(prior: Prior, symbols: dict[str, float]) -> Any:
    """The frozen scipy distribution equal to ``prior`` (PyMC parametrisation)."""
    v = prior.resolve(symbols)
    if prior.dist == "Normal":
        return stats.norm(loc=v["mu"], scale=v["sigma"])
    if prior.dist == "TruncatedNormal":
        a = (v["lower"] - v["mu"]) / v["sigma"]
        b = (v["upper"] - v["mu"]) / v["sigma"]
        return stats.truncnorm(a, b, loc=v["mu"], scale=v["sigma"])
    if prior.dist == "Uniform":
        return stats.uniform(loc=v["lower"], scale=v["upper"] - v["lower"])
    if prior.dist == "HalfNormal":
        return stats.halfnorm(scale=v["sigma"])
    if prior.dist == "HalfCauchy":
        return stats.halfcauchy(scale=v["beta"])
    if prior.dist == "LogNormal":
        return stats.lognorm(s=v["sigma"], scale=math.exp(v["mu"]))
    if prior.dist == "Gamma":
        return stats.gamma(a=v["alpha"], scale=1.0 / v["beta"])
    if prior.dist == "InverseGamma":
        return stats.invgamma(a=v["alpha"], scale=v["beta"])
    if prior.dist == "Exponential":
        return stats.expon(scale=1.0 / v["lam"])
    if prior.dist == "Beta":
        return stats.beta(v["alpha"], v["beta"])
    raise AssertionError(f"test helper has no scipy equivalent of {prior.dist}; add one")


def _symbols(y_last: float, spread: float, lo: float, hi: float) -> dict[str, float]:
    return {
        "y_last": y_last,
        "y_best": y_last,
        "y_spread": spread,
        "log_noise_scale": math.log(0.01),
        "metric_min": lo,
        "metric_max": hi,
    }


def _median_params(fam: type[Family], symbols: dict[str, float], y_ref: float) -> dict[str, float]:
    p = {k: float(_scipy_dist(pr, symbols).median()) for k, pr in fam.priors.items()}
    if "y_ref" in p:
        p["y_ref"] = y_ref
    return p


def _draw_params(fam: type[Family], symbols: dict[str, float], size: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: _scipy_dist(pr, symbols).rvs(size=size, random_state=rng) for k, pr in fam.priors.items()}


# Increasing mAP-like metric: n_ref = 10k, bounds [0, 1], value 0.4 at n_ref.
INC_SCALE = Scale(n_ref=10_000.0, sign=1.0, best=1.0, worst=0.0)
INC_SYMBOLS = _symbols(0.4, 0.2, 0.0, 1.0)

# Decreasing loss: floor 0; ceiling either unknown (None) or 1.0.
DEC_SCALES = [
    pytest.param(
        Scale(n_ref=10_000.0, sign=-1.0, best=0.0, worst=None),
        _symbols(0.3, 0.15, 0.0, 0.3 + 100 * 0.15),
        id="no-ceiling",
    ),
    pytest.param(
        Scale(n_ref=10_000.0, sign=-1.0, best=0.0, worst=1.0),
        _symbols(0.3, 0.15, 0.0, 1.0),
        id="ceiling-1",
    ),
]


def _targets_between(fam: type[Family], p: dict[str, Any], s: Scale) -> np.ndarray:
    """Targets strictly between f(n_ref / 10) and f(10 n_ref), shape (3, *params)."""
    f_lo = np.asarray(fam.mean(s.n_ref / 10, p, s), float)
    f_hi = np.asarray(fam.mean(s.n_ref * 10, p, s), float)
    assert np.all(s.sign * (f_hi - f_lo) > 0), "the curve must improve from n_ref/10 to 10 n_ref"
    q = np.array([0.05, 0.5, 0.95]).reshape((3,) + (1,) * f_lo.ndim)
    return f_lo + q * (f_hi - f_lo)


# ---------------------------------------------------------------------------
# exact values at hand-picked parameters
# ---------------------------------------------------------------------------
# (family, params, scale, n, expected); expected worked out by hand from the
# anchored formula in each family's docstring.
_S = Scale(n_ref=10_000.0, sign=1.0, best=1.0, worst=0.0)
_S_DEC = Scale(n_ref=10_000.0, sign=-1.0, best=0.0, worst=1.0)
# y_ref = 0.4, room = 0.5 -> asymptote c = 0.4 + 0.5 * (1 - 0.4) = 0.7
_SAT = {"y_ref": 0.4, "room": 0.5}
EXACT = [
    # pow3: c + (y_ref - c) * x^-alpha; x = 4, alpha = 0.5 -> r = 0.5
    ("pow3", {**_SAT, "alpha": 0.5}, _S, 40_000.0, 0.7 - 0.3 * 0.5),
    # x = 1/4 -> r = 2: below the anchor
    ("pow3", {**_SAT, "alpha": 0.5}, _S, 2_500.0, 0.7 - 0.3 * 2.0),
    # decreasing: c = 0.4 + 0.5 * (0 - 0.4) = 0.2; x = 4 -> r = 0.5
    ("pow3", {**_SAT, "alpha": 0.5}, _S_DEC, 40_000.0, 0.2 + 0.2 * 0.5),
    # exp3: r = exp(-beta (x - 1)); beta = ln 2, x = 2 -> r = 1/2
    ("exp3", {**_SAT, "beta": math.log(2.0)}, _S, 20_000.0, 0.7 - 0.3 * 0.5),
    # x = 1/2 -> r = sqrt(2)
    ("exp3", {**_SAT, "beta": math.log(2.0)}, _S, 5_000.0, 0.7 - 0.3 * math.sqrt(2.0)),
    # log: y_ref + b * log(n / n_ref); n = n_ref e^2 -> 0.4 + 0.1 * 2
    ("log", {"y_ref": 0.4, "b": 0.1}, _S, 10_000.0 * math.exp(2.0), 0.6),
    # decreasing: y_ref - b * log(n / n_ref)
    ("log", {"y_ref": 0.4, "b": 0.1}, _S_DEC, 10_000.0 * math.exp(2.0), 0.2),
    # loglog: y_ref + b * ln(n_ref) * (ln ln n - ln ln n_ref); n_ref = e^4, n = e^8
    (
        "loglog",
        {"y_ref": 0.4, "b": 0.1},
        Scale(math.exp(4.0), 1.0, 1.0, 0.0),
        math.exp(8.0),
        0.4 + 0.1 * 4.0 * math.log(2.0),
    ),
    # pareto: best - (best - worst) * n^-alpha; 100^-0.5 = 0.1
    ("pareto", {"alpha": 0.5}, _S, 100.0, 1.0 - 1.0 * 0.1),
    ("pareto", {"alpha": 0.5}, Scale(10_000.0, 1.0, 0.9, 0.1), 100.0, 0.9 - 0.8 * 0.1),
    # mmf: r = (1 + kappa^delta) / (1 + (kappa x)^delta); kappa = delta = 1, x = 3 -> 1/2
    ("mmf", {**_SAT, "kappa": 1.0, "delta": 1.0}, _S, 30_000.0, 0.7 - 0.3 * 0.5),
    # kappa = 4, delta = 0.5, x = 4: r = (1 + 2) / (1 + 4) = 0.6
    ("mmf", {**_SAT, "kappa": 4.0, "delta": 0.5}, _S, 40_000.0, 0.7 - 0.3 * 0.6),
    # weibull: r = exp(kappa^delta - (kappa x)^delta); kappa = 2, delta = 0.5, x = 2
    (
        "weibull",
        {**_SAT, "kappa": 2.0, "delta": 0.5},
        _S,
        20_000.0,
        0.7 - 0.3 * math.exp(math.sqrt(2.0) - 2.0),
    ),
    # hill3: W + (c - W) x^eta / (K + x^eta), K = (c - y_ref) / (y_ref - W) = 0.75;
    # eta = 1, x = 3 -> 0.7 * 3 / 3.75 = 0.56
    ("hill3", {**_SAT, "eta": 1.0}, _S, 30_000.0, 0.7 * 3.0 / 3.75),
    # ...and the anchor itself: f(n_ref) = y_ref
    ("hill3", {**_SAT, "eta": 2.0}, _S, 10_000.0, 0.4),
    # ilog2: c + (y_ref - c) * log(1 + n_ref) / log(1 + n); n_ref = e^3 - 1, n = e^6 - 1
    ("ilog2", _SAT, Scale(math.expm1(3.0), 1.0, 1.0, 0.0), math.expm1(6.0), 0.7 - 0.3 * 0.5),
]


@pytest.mark.parametrize(
    ("name", "params", "scale", "n", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(EXACT)],
)
def test_mean_is_exact_at_hand_picked_parameters(name, params, scale, n, expected):
    got = get_family(name).mean(np.float64(n), params, scale)
    assert float(got) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("fam", FAMILIES)
def test_anchored_families_pass_through_y_ref_at_n_ref(fam):
    if "y_ref" not in fam.params:
        pytest.skip("family is not anchored at n_ref")
    p = _median_params(fam, INC_SYMBOLS, y_ref=0.4)
    assert float(fam.mean(INC_SCALE.n_ref, p, INC_SCALE)) == pytest.approx(0.4, rel=1e-12)


# ---------------------------------------------------------------------------
# inverse
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fam", FAMILIES)
def test_inverse_undoes_mean_increasing(fam):
    s = INC_SCALE
    p = _median_params(fam, INC_SYMBOLS, y_ref=0.4)
    y = _targets_between(fam, p, s)
    n = fam.inverse(y, p, s)
    assert np.all((n > s.n_ref / 10) & (n < s.n_ref * 10))
    np.testing.assert_allclose(fam.mean(n, p, s), y, rtol=1e-6)


@pytest.mark.parametrize("fam", FAMILIES)
def test_inverse_vectorised_over_parameter_draws(fam):
    s = INC_SCALE
    p = _draw_params(fam, INC_SYMBOLS, size=16, seed=0)
    y = _targets_between(fam, p, s)  # (3, 16)
    n = fam.inverse(y, p, s)
    assert n.shape == (3, 16)
    np.testing.assert_allclose(fam.mean(n, p, s), y, rtol=1e-6)
    # a scalar target against (S,) draws, as Fit.n_star calls it
    n1 = fam.inverse(float(y[1, 0]), p, s)
    assert n1.shape == (16,)
    assert n1[0] == pytest.approx(n[1, 0], rel=1e-9)


#: an unreachable target must give exactly ``inf`` (Forecast.need counts
#: ``isinf`` for p_never), not a large finite stand-in such as 1.8e308
BOUNDED = [pytest.param(fam, id=name) for name, fam in REGISTRY.items() if fam.bounded]
UNBOUNDED = [pytest.param(fam, id=name) for name, fam in REGISTRY.items() if not fam.bounded]


@pytest.mark.parametrize("fam", BOUNDED)
def test_inverse_is_inf_beyond_asymptote(fam):
    s = INC_SCALE
    p = _median_params(fam, INC_SYMBOLS, y_ref=0.4)
    c = float(fam.asymptote(p, s))
    assert 0.4 < c <= s.best
    assert np.isinf(fam.inverse(c + 0.01, p, s)).all()


@pytest.mark.parametrize("fam", BOUNDED)
def test_inverse_is_inf_beyond_asymptote_draws(fam):
    """The way Fit.n_star calls it: a scalar target against (S,) posterior draws."""
    s = INC_SCALE
    p = _draw_params(fam, INC_SYMBOLS, size=16, seed=2)
    c = np.asarray(fam.asymptote(p, s), float)
    n = fam.inverse(float(c.max()) + 0.01, p, s)
    assert n.shape == (16,)
    assert np.isinf(n).all()


@pytest.mark.parametrize("fam", UNBOUNDED)
def test_unbounded_inverse_is_finite_for_any_target(fam):
    s = INC_SCALE
    p = _median_params(fam, INC_SYMBOLS, y_ref=0.4)
    assert fam.asymptote(p, s) is None
    # no asymptote: even a target above the metric's best is reached eventually
    n = fam.inverse(s.best + 0.01, p, s)
    assert np.isfinite(n).all() and (n > s.n_ref).all()


@pytest.mark.parametrize(("scale", "symbols"), DEC_SCALES)
@pytest.mark.parametrize("fam", FAMILIES)
def test_inverse_undoes_mean_decreasing(fam, scale, symbols):
    if "worst" in fam.needs and scale.worst is None:
        pytest.skip("family needs the metric's worst value")
    p = _median_params(fam, symbols, y_ref=0.3)
    y = _targets_between(fam, p, scale)
    n = fam.inverse(y, p, scale)
    assert np.all((n > scale.n_ref / 10) & (n < scale.n_ref * 10))
    np.testing.assert_allclose(fam.mean(n, p, scale), y, rtol=1e-6)
    # vectorised over a batch of draws
    pd = _draw_params(fam, symbols, size=16, seed=3)
    yd = _targets_between(fam, pd, scale)
    np.testing.assert_allclose(fam.mean(fam.inverse(yd, pd, scale), pd, scale), yd, rtol=1e-6)


@pytest.mark.parametrize(("scale", "symbols"), DEC_SCALES)
@pytest.mark.parametrize("fam", BOUNDED)
def test_inverse_is_inf_beyond_asymptote_decreasing(fam, scale, symbols):
    if "worst" in fam.needs and scale.worst is None:
        pytest.skip("family needs the metric's worst value")
    p = _median_params(fam, symbols, y_ref=0.3)
    c = float(fam.asymptote(p, scale))
    assert scale.best <= c < 0.3
    assert np.isinf(fam.inverse(c - 0.01, p, scale)).all()


@pytest.mark.parametrize(("scale", "symbols"), DEC_SCALES)
@pytest.mark.parametrize("fam", UNBOUNDED)
def test_unbounded_inverse_is_finite_for_any_target_decreasing(fam, scale, symbols):
    p = _median_params(fam, symbols, y_ref=0.3)
    assert fam.asymptote(p, scale) is None
    n = fam.inverse(scale.best - 0.01, p, scale)
    assert np.isfinite(n).all() and (n > scale.n_ref).all()


# ---------------------------------------------------------------------------
# prior predictive
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def map_curve() -> CurveData:
    return CurveData(MAP_N, MAP_Y)


def _prior_curves(fam: type[Family], data: CurveData) -> np.ndarray:
    """Mean curves of 400 default-prior draws at N_GRID, shape (400, 5)."""
    p = _draw_params(fam, data.symbols(), size=400, seed=1)
    s = Scale(n_ref=data.n_ref, sign=data.sign, best=data.best_bound, worst=data.worst_bound)
    with np.errstate(all="ignore"):
        return np.asarray(fam.mean(N_GRID[None, :], {k: v[:, None] for k, v in p.items()}, s))


@pytest.mark.parametrize("fam", FAMILIES)
def test_prior_predictive_is_monotone(fam, map_curve):
    f = _prior_curves(fam, map_curve)
    assert not np.any(np.isnan(f))
    assert np.all(f[:, 1:] >= f[:, :-1])


@pytest.mark.parametrize("fam", [pytest.param(f, id=n) for n, f in REGISTRY.items() if f.bounded])
def test_prior_predictive_respects_bounds_beyond_n_ref(fam, map_curve):
    """From n_ref on (where forecasts live) bounded families stay in [0, 1] (unbounded ones promise no bound)."""
    f = _prior_curves(fam, map_curve)
    beyond = f[:, map_curve.n_ref <= N_GRID]
    assert np.all(beyond >= -1e-9) and np.all(beyond <= 1 + 1e-9)
    # the asymptote never exceeds the best value, so the upper bound holds at every n
    assert np.all(f <= 1 + 1e-9)


@pytest.mark.parametrize("fam", FAMILIES)
def test_prior_predictive_of_a_fit_respects_bounds_at_every_n(fam, map_curve):
    """What users see: a fit's curve draws (with discrepancy) stay inside [0, 1] at every n.

    The raw saturating formulas run below 0 for n far below the data (r -> inf as
    n -> 0); ``CurveFit.latent`` clips to the metric's bounds.
    """
    from curvecast.diagnostics import Diagnostics
    from curvecast.discrepancy import Discrepancy
    from curvecast.results import CurveFit

    p = _draw_params(fam, map_curve.symbols(), size=400, seed=1)
    p["sigma"] = np.full(400, 0.01)
    disc = Discrepancy(kappa=0.1)
    p["disc_z"] = disc.draw(400, 0)
    f = CurveFit(fam, map_curve, dict(fam.priors), p, Diagnostics(0, 1.0, 1e3, 1e3), {"discrepancy": disc.to_dict()})
    lat = f.latent(np.geomspace(10, 1e8, 30))
    assert not np.any(np.isnan(lat))
    assert np.all(lat >= 0) and np.all(lat <= 1)


def test_every_default_prior_has_a_scipy_stand_in():
    for fam in REGISTRY.values():
        for prior in fam.priors.values():
            _scipy_dist(prior, INC_SYMBOLS)


# ---------------------------------------------------------------------------
# the PyMC model: finite gradient at the initial point
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_module():
    pytest.importorskip("pymc")
    from curvecast import model

    return model


@pytest.fixture(scope="module")
def fast_mode():
    """Python linker, no graph rewrites: ~0.4 s per family instead of ~10 s of C
    compilation. The unrewritten graph is the less stable one, so a finite
    gradient here is the stricter check."""
    from pytensor.compile.mode import Mode

    return Mode(linker="py", optimizer=None)


@pytest.mark.parametrize("fam", FAMILIES)
def test_dlogp_is_finite_at_initial_point(fam, model_module, map_curve, fast_mode):
    fam.check_data(map_curve)
    spec = model_module.ModelSpec(fam, (map_curve,), merged_priors(fam, None))
    m = spec.build()
    point = m.initial_point()
    logp, grad = m.compile_fn([m.logp(), m.dlogp()], mode=fast_mode)(point)
    assert np.isfinite(logp)
    assert np.all(np.isfinite(grad))
    assert grad.size == len(fam.params) + 1 + spec.hetero  # + the noise sigma (and its trend gamma)


# ---------------------------------------------------------------------------
# registry rules
# ---------------------------------------------------------------------------
class TestRegistry:
    def test_every_family_is_consistent(self):
        for name, fam in REGISTRY.items():
            assert fam.name == name
            assert set(fam.params) == set(fam.priors)
            assert set(fam.params.values()) <= {"real", "positive", "unit"}
            assert set(fam.needs) <= {"best", "worst"}
            assert fam.formula

    def test_duplicate_name_raises(self):
        before = dict(REGISTRY)
        try:
            with pytest.raises(TypeError, match="'pow3' is registered twice"):

                class Dup(Family):
                    name = "pow3"
                    formula = "x"
                    params: ClassVar = {"a": "real"}
                    priors: ClassVar = {"a": Prior("Normal", mu=0.0, sigma=1.0)}

            assert REGISTRY["pow3"] is before["pow3"]
        finally:
            REGISTRY.clear()
            REGISTRY.update(before)

    def test_params_not_matching_priors_raises(self):
        before = dict(REGISTRY)
        try:
            with pytest.raises(TypeError, match=r"\['a', 'b'\] do not match prior keys \['a'\]"):

                class Mismatch(Family):
                    name = "_test_mismatch"
                    formula = "a + b"
                    params: ClassVar = {"a": "real", "b": "positive"}
                    priors: ClassVar = {"a": Prior("Normal", mu=0.0, sigma=1.0)}

            assert "_test_mismatch" not in REGISTRY
        finally:
            REGISTRY.clear()
            REGISTRY.update(before)

    def test_valid_subclass_registers_and_is_found(self):
        before = dict(REGISTRY)
        try:

            class Const(Family):
                name = "_test_const"
                formula = "a"
                params: ClassVar = {"a": "real"}
                priors: ClassVar = {"a": Prior("Normal", mu=0.0, sigma=1.0)}

            assert get_family("_test_const") is Const
        finally:
            REGISTRY.clear()
            REGISTRY.update(before)
        assert "_test_const" not in REGISTRY

    def test_unknown_family(self):
        with pytest.raises(CurvecastError, match="unknown family 'nope'; known families: pow3"):
            get_family("nope")

    @pytest.mark.parametrize("name", ["pow3+pow4", "auto"])
    def test_a_combination_is_named_as_one_not_as_unknown(self, name):
        # valid for one curve's fit; where one family is needed (pooled fits, prior comparisons) say so
        with pytest.raises(CurvecastError, match=rf"^{re.escape(repr(name))} combines families, but pooled fits"):
            get_family(name)
