"""The one model builder (curvecast.model.ModelSpec): single-curve and pooled graphs, exactly, without sampling."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import special, stats

from curvecast import families
from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.families import NUMPY_OPS, Scale
from curvecast.model import ModelSpec, hyper_center, pooled_params
from curvecast.prior_sets import merged_priors
from curvecast.priors import Prior

N = [1000.0, 2000.0, 4000.0, 8000.0]
Y = [0.2, 0.3, 0.35, 0.4]
#: three sizes, no replicates: one noise scale (no ``gamma``)
A = CurveData(N[:3], Y[:3], name="a")
B = CurveData([10.0, 100.0, 1000.0], [0.9, 0.5, 0.43], increasing=False, name="b")
B_REP = CurveData([10.0, 100.0, 1000.0, 1000.0], [0.9, 0.5, 0.43, 0.44], increasing=False, name="b")


def _spec(family="pow3", curves=(A,), priors=None, pooled=None):
    fam = families.get_family(family)
    pooled = pooled_params(fam) if pooled is None and len(curves) > 1 else (pooled or ())
    return ModelSpec(fam, tuple(curves), merged_priors(fam, priors), pooled=pooled)


def _build(spec, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spec.build(**kw)


def _constrained(model, names):
    """``names`` as functions of the model's value variables (not of its random variables)."""
    values = {v.name: v for v in model.unobserved_value_vars}
    return [values[n] for n in names]


def _free(model):
    return [v.name for v in model.free_RVs]


# -- single curve: today's graph ----------------------------------------------------------


def test_single_curve_model_is_todays_graph():
    model = _build(_spec())
    assert _free(model) == ["y_ref", "alpha", "room_shifted", "sigma"]
    assert {"room", "room_prior", "y"} <= set(model.named_vars)
    assert not model.coords
    data = {v.name for v in model.data_vars}
    assert data == {"n_obs", "y_obs", "n_ref", "sign", "best", "worst"} | {f"sym_{k}" for k in A.symbols()}


def test_replicates_add_the_noise_exponent():
    rep = CurveData(N[:3] + N[:3], Y[:3] + [v + 0.01 for v in Y[:3]])
    assert _free(_build(_spec(curves=(rep,)))) == ["y_ref", "alpha", "room_shifted", "sigma", "gamma"]


def test_four_sizes_add_the_noise_exponent():
    """From HETERO_MIN_SIZES sizes on the noise may shrink with n: early points weigh less."""
    assert _spec(curves=(CurveData(N[:3], Y[:3]),)).param_names == ["y_ref", "room", "alpha", "sigma"]
    four = _spec(curves=(CurveData(N, Y),))
    assert four.hetero and four.param_names == ["y_ref", "room", "alpha", "sigma", "gamma"]
    assert _free(_build(four)) == ["y_ref", "alpha", "room_shifted", "sigma", "gamma"]


@pytest.mark.parametrize("fam", [pytest.param(f, id=f.name) for f in families.REGISTRY.values()])
def test_ridge_coordinates_follow_the_declared_capability(fam):
    data = CurveData(N, Y, metric_min=0.0, metric_max=1.0)
    model = _build(ModelSpec(fam, (data,), merged_priors(fam, None)))
    assert ("room_shifted" in model.named_vars) is fam.ridge
    assert set(fam.params) <= set(model.named_vars)


def test_vap_keeps_its_own_prior_and_fits_replicates():
    """vap's 1/n coefficient once shared the name 'gamma' with the noise exponent."""
    fam = families.get_family("vap")
    priors = merged_priors(fam, None)
    assert priors["beta"].dist == "LogNormal" and priors["gamma"].dist == "HalfNormal"
    model = _build(ModelSpec(fam, (CurveData(N + N, Y + [v + 0.01 for v in Y]),), priors))
    assert {"beta", "gamma"} <= set(model.named_vars)


def test_family_names_reserved_for_noise_are_rejected():
    with pytest.raises(TypeError, match="reserved"):

        class Bad(families.Saturating):
            name = "bad_noise_clash"
            params = {"y_ref": "real", "room": "unit", "sigma": "positive"}
            priors = {"y_ref": None, "room": None, "sigma": None}


@pytest.mark.parametrize("family", ["pow3", "exp3", "mmf", "weibull"])
def test_ridge_coordinates_leave_the_posterior_unchanged(family):
    """Sampling room along the ridge is a unit-Jacobian change of coordinates: the
    log-density at corresponding points equals the plain model's exactly."""
    fam = families.get_family(family)
    data = CurveData([16.0, 23.0, 32.0, 64.0, 256.0], [0.82, 0.829, 0.831, 0.830, 0.831])
    spec = ModelSpec(fam, (data,), merged_priors(fam, None))
    shape = [p for p in fam.params if p not in ("y_ref", "room")]
    plain, ridge = _build(spec, ridge_coordinates=False), _build(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lp_plain, lp_ridge = plain.compile_logp(), ridge.compile_logp()
        values = {v.name: v for v in plain.unobserved_value_vars}
        constrained = plain.compile_fn([values[p] for p in shape], inputs=plain.value_vars, on_unused_input="ignore")
    assert "room_shifted" in ridge.named_vars and "room" in ridge.named_vars
    rng = np.random.default_rng(1)
    base = plain.initial_point()
    x_min = 16.0 / 256.0
    for _ in range(5):
        point = {k: v + rng.normal(scale=0.5) for k, v in base.items()}
        theta = dict(zip(shape, (float(v) for v in constrained(point)), strict=True))
        log_rise = math.log(float(fam.ratio(np.float64(x_min), theta, NUMPY_OPS)) - 1.0)
        other = {k: v for k, v in point.items() if k != "room_logodds__"}
        other["room_shifted"] = float(point["room_logodds__"]) + log_rise
        assert float(lp_ridge(other)) == pytest.approx(float(lp_plain(point)), rel=1e-9, abs=1e-9)


# -- several curves: the pooled model -------------------------------------------------------


def test_pooled_model_variables_and_dims():
    model = _build(_spec(curves=(A, B)))
    assert model.coords["curve"] == ("a", "b")
    dims = model.named_vars_to_dims
    for name in ("y_ref", "room", "alpha", "sigma", "z_room", "z_alpha"):
        assert tuple(dims[name]) == ("curve",), name
    for name in ("mu_room", "tau_room", "mu_alpha", "tau_alpha"):
        assert name in model.named_vars and name not in dims
    assert "room_shifted" not in model.named_vars and "gamma" not in model.named_vars
    assert {type(v.get_value()) for v in model.data_vars} == {np.ndarray}
    assert {v.dtype for v in model.data_vars} == {"float64"}


def test_pooled_values_concatenate_the_curves():
    spec = _spec(curves=(A, B_REP))
    v = spec.values()
    np.testing.assert_array_equal(v["n_obs"], np.concatenate([A.n, B_REP.n]))
    np.testing.assert_array_equal(v["curve_idx"], [0.0] * 3 + [1.0] * 4)
    np.testing.assert_array_equal(v["sign"], [1.0, -1.0])
    np.testing.assert_array_equal(v["n_ref"], [4000.0, 1000.0])
    assert v["sym_y_last"][1] == pytest.approx(0.435)
    assert all(np.asarray(x).dtype == np.float64 for x in v.values())
    assert spec.hetero and "gamma" in spec.param_names


def test_pooled_likelihood_is_each_curves_own():
    """At any point, the observation term is the sum over curves of the curve's own
    Normal(f(n; theta_c), sigma_c (n / n_ref_c)^-gamma_c) log-density."""
    fam = families.get_family("pow3")
    spec = _spec(curves=(A, B_REP))
    model = _build(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = ["y_ref", "room", "alpha", "sigma", "gamma"]
        fn = model.compile_fn(
            [model.logp(vars=[model["y"]], sum=True), *_constrained(model, names)], inputs=model.value_vars
        )
    rng = np.random.default_rng(4)
    base = model.initial_point()
    for _ in range(3):
        point = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in base.items()}
        lp, *vals = fn(point)
        theta = dict(zip(names, vals, strict=True))
        want = 0.0
        for i, c in enumerate((A, B_REP)):
            s = Scale(n_ref=c.n_ref, sign=c.sign, best=c.best_bound, worst=c.worst_bound)
            p = {k: theta[k][i] for k in fam.params}
            sd = theta["sigma"][i] * (c.n / c.n_ref) ** -theta["gamma"][i]
            want += stats.norm.logpdf(c.y, fam.mean(c.n, p, s), sd).sum()
        assert float(lp) == pytest.approx(want, rel=1e-10)


def test_pooled_params_are_non_centred_on_their_links():
    model = _build(_spec(curves=(A, B)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = ["alpha", "room", "mu_alpha", "tau_alpha", "z_alpha", "mu_room", "tau_room", "z_room"]
        fn = model.compile_fn(_constrained(model, names), inputs=model.value_vars, on_unused_input="ignore")
    point = {k: v + 0.3 for k, v in model.initial_point().items()}
    alpha, room, mu_a, tau_a, z_a, mu_r, tau_r, z_r = fn(point)
    np.testing.assert_allclose(np.log(alpha), mu_a + tau_a * z_a, rtol=1e-12)
    np.testing.assert_allclose(np.log(room / (1 - room)), mu_r + tau_r * z_r, rtol=1e-10)


def _hyper_logp(model, name, value):
    import pymc as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(pm.logp(model[name], value).eval())


def test_pooled_model_honours_a_user_prior():
    """An alpha prior moves mu_alpha's prior; a room prior moves mu_room's."""
    default = _build(_spec(curves=(A, B)))
    user = {"pow3": {"alpha": Prior("LogNormal", mu=-2.0, sigma=0.3), "room": Prior("Beta", alpha=2.0, beta=6.0)}}
    custom = _build(_spec(curves=(A, B), priors=user))
    assert _hyper_logp(default, "mu_alpha", -0.9) == pytest.approx(stats.norm.logpdf(-0.9, -0.9, 0.8))
    assert _hyper_logp(custom, "mu_alpha", -0.9) == pytest.approx(stats.norm.logpdf(-0.9, -2.0, 0.3))
    beta_26 = math.sqrt(float(special.polygamma(1, 2) + special.polygamma(1, 6)))  # Beta(2, 6)'s logit SD, 0.91
    assert _hyper_logp(custom, "mu_room", 0.0) == pytest.approx(stats.norm.logpdf(0.0, math.log(2 / 6), beta_26))
    assert _hyper_logp(default, "tau_alpha", 0.2) == pytest.approx(stats.halfnorm.logpdf(0.2, scale=0.5))
    assert _hyper_logp(custom, "tau_alpha", 0.2) == pytest.approx(stats.halfnorm.logpdf(0.2, scale=0.3))
    tight = _build(_spec(curves=(A, B), priors={"pow3": {"room": Prior("Beta", alpha=1000.0, beta=3000.0)}}))
    spread = hyper_center("room", Prior("Beta", alpha=1000.0, beta=3000.0))[2]
    assert _hyper_logp(tight, "tau_room", 0.01) == pytest.approx(stats.halfnorm.logpdf(0.01, scale=spread))


def test_unpooled_params_keep_their_prior_per_curve():
    """y_ref and sigma use their own Prior, resolved with each curve's data symbols."""
    model = _build(_spec(curves=(A, B)))
    sa, sb = A.symbols(), B.symbols()
    import pymc as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lp = pm.logp(model["sigma"], np.array([0.01, 0.02])).eval()
    want = [stats.lognorm.logpdf(x, 0.5, scale=math.exp(s["log_noise_scale"])) for x, s in ((0.01, sa), (0.02, sb))]
    np.testing.assert_allclose(lp, want, rtol=1e-8)


def test_hyper_center():
    assert hyper_center("alpha", Prior("LogNormal", mu=-0.9, sigma=0.8)) == (-0.9, 0.8, 0.8)
    loc, scale, spread = hyper_center("room", Prior("Beta", alpha=1.0, beta=3.0))  # the default: as before
    assert loc == pytest.approx(math.log(1 / 3)) and scale == 1.0 and spread == pytest.approx(1.4282, abs=1e-4)
    logit = stats.beta(1000, 3000).rvs(200_000, random_state=1)
    _, scale, spread = hyper_center("room", Prior("Beta", alpha=1000.0, beta=3000.0))  # a tight prior stays tight
    assert scale == spread == pytest.approx(np.std(np.log(logit / (1 - logit))), rel=0.01)
    with pytest.raises(CurvecastError, match=r"cannot pool 'alpha' with a Gamma prior.*LogNormal, Beta"):
        hyper_center("alpha", Prior("Gamma", alpha=2.0, beta=1.0))
    with pytest.raises(CurvecastError, match="data symbol"):
        hyper_center("alpha", Prior("LogNormal", mu="log_noise_scale", sigma=1.0))


def test_pooling_a_gamma_prior_is_refused_when_the_spec_is_made():
    with pytest.raises(CurvecastError, match="cannot pool 'alpha'"):
        _spec(curves=(A, B), priors={"pow3": {"alpha": Prior("Gamma", alpha=2.0, beta=1.0)}})


@pytest.mark.parametrize(
    ("curves", "pooled", "match"),
    [
        ((A,), ("alpha",), "at least two curves"),
        ((A, B), ("sigma",), "not parameters of 'pow3'"),
        ((A, CurveData(N, Y, name="a")), ("alpha",), "distinct names"),
        ((), (), "at least one curve"),
    ],
)
def test_bad_specs_are_refused(curves, pooled, match):
    fam = families.get_family("pow3")
    with pytest.raises(CurvecastError, match=match):
        ModelSpec(fam, curves, merged_priors(fam, None), pooled=pooled)


def test_identity_and_free_vars():
    single, pooled = _spec(), _spec(curves=(A, B))
    assert single.identity() == _spec(curves=(B,)).identity()  # data values are not part of it
    assert pooled.identity() == _spec(curves=(B, A)).identity()
    assert pooled.identity() != _spec(curves=(A, B, CurveData(N, Y, name="c"))).identity()  # K is
    assert pooled.identity() != _spec(curves=(A, B), pooled=("alpha",)).identity()
    assert pooled.identity() != _spec(curves=(A, B_REP)).identity()  # replicates
    assert single.identity() != _spec(priors={"pow3": {"alpha": Prior("LogNormal", mu=0.0, sigma=1.0)}}).identity()
    assert single.free_vars == ["y_ref", "room", "alpha", "sigma"]
    assert pooled.free_vars == ["y_ref", "sigma", "mu_room", "tau_room", "z_room", "mu_alpha", "tau_alpha", "z_alpha"]
    assert pooled_params(families.get_family("pow4")) == ("room", "alpha", "k")
    assert pooled.coords == {"curve": ["a", "b"]} and single.coords == {}
