"""The disk-cached nutpie callbacks (curvecast.logp_cache) and the engine around them."""

from __future__ import annotations

import ctypes
import math
import warnings

import numpy as np
import pytest
from scipy import special

from curvecast import families, logp_cache
from curvecast.data import CurveData
from curvecast.model import build_model, data_values, merged_priors

N = [1000.0, 2000.0, 4000.0, 8000.0]
Y = [0.2, 0.3, 0.35, 0.4]


@pytest.mark.parametrize("x", [-26.0, -5.0, -1.0, -1e-3, 0.0, 0.3, 1.0, 4.0, 10.0, 24.9, 25.0, 30.0, 1e3, 1e8])
def test_erfcx_matches_scipy(x):
    want = special.erfcx(x)
    assert logp_cache.erfcx(x) == pytest.approx(want, rel=1e-12)


def test_erfcx_overflows_like_scipy():
    assert math.isinf(logp_cache.erfcx(-30.0)) and math.isinf(special.erfcx(-30.0))


def test_pack_layout_and_rank_check():
    layout = [("a", 0), ("v", 1)]
    buf = logp_cache.pack(layout, {"a": 2.5, "v": [1.0, 2.0, 3.0]})
    assert buf[0] == buf.size == 1 + 4 + 1 + 3
    off_a, len_a, off_v, len_v = buf[1:5].astype(int)
    assert buf[off_a] == 2.5 and len_a == 1
    assert list(buf[off_v : off_v + len_v]) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="rank"):
        logp_cache.pack(layout, {"a": [1.0], "v": [1.0]})


def test_vap_keeps_its_own_prior_and_fits_replicates():
    """vap's 1/n coefficient once shared the name 'gamma' with the noise exponent."""
    fam = families.get_family("vap")
    priors = merged_priors(fam, None)
    assert priors["beta"].dist == "LogNormal" and priors["gamma"].dist == "HalfNormal"
    data = CurveData(N + N, Y + [v + 0.01 for v in Y])
    model = build_model(fam, data, priors)
    assert {"beta", "gamma"} <= set(model.named_vars)


def test_family_names_reserved_for_noise_are_rejected():
    with pytest.raises(TypeError, match="reserved"):

        class Bad(families.Saturating):
            name = "bad_noise_clash"
            params = {"y_ref": "real", "room": "unit", "sigma": "positive"}
            priors = {"y_ref": None, "room": None, "sigma": None}


def _call_logp(cached, x, buf):
    fn = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, *[ctypes.c_void_p] * 4)(cached.logp.address)
    grad, lp = np.zeros(len(cached.names)), np.zeros(1)
    rc = fn(len(cached.names), x.ctypes.data, grad.ctypes.data, lp.ctypes.data, buf.ctypes.data)
    return rc, lp[0], grad


def test_cached_callbacks_match_pymc_and_reload_from_disk(tmp_path):
    """Log-density, gradient, expansion and initial point equal PyMC's, for two curves
    through one compiled model, and a second load comes from the cache."""
    fam = families.get_family("pow3")
    priors = merged_priors(fam, None)
    curves = [
        CurveData(N, Y),
        CurveData([10.0, 30.0, 100.0, 300.0, 1000.0], [0.9, 0.7, 0.5, 0.45, 0.43], increasing=False),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(fam, curves[0], priors)
        assert logp_cache.store(model, ("test", 1), tmp_path)
        cached = logp_cache.load(("test", 1), tmp_path)
        assert cached is not None
        assert logp_cache.load(("test", 2), tmp_path) is None  # another identity misses
        rng = np.random.default_rng(0)
        for data in curves:
            values = data_values(fam, data)
            buf = logp_cache.pack(cached.layout, values)
            m = build_model(fam, data, priors)
            f_logp, f_dlogp = m.compile_logp(), m.compile_dlogp()
            ip = m.initial_point()
            x0 = np.array([ip[n] for n in cached.names])
            np.testing.assert_allclose(cached.init(buf), x0, rtol=1e-12, atol=1e-12)
            for _ in range(3):
                x = x0 + rng.normal(scale=0.3, size=x0.size)
                point = dict(zip(cached.names, x, strict=True))
                rc, lp, grad = _call_logp(cached, x, buf)
                assert rc == 0
                assert lp == pytest.approx(float(f_logp(point)), rel=1e-10)
                np.testing.assert_allclose(grad, f_dlogp(point), rtol=1e-8, atol=1e-8)
            compiled = cached.with_data(values)
            assert compiled.n_dim == len(cached.names)
            a, b = compiled.initial_point_func(5), compiled.initial_point_func(5)
            np.testing.assert_array_equal(a, b)
            assert np.all(np.abs(a - x0) <= 1.0)


def test_unwritable_cache_directory_falls_back(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    fam = families.get_family("pow3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(fam, CurveData(N, Y), merged_priors(fam, None))
    assert logp_cache.store(model, ("test",), blocker / "cache") is False
    assert logp_cache.load(("test",), blocker / "cache") is None


def test_same_seed_same_draws_on_a_cache_miss_and_a_hit(tmp_path):
    """The first process compiles (a miss), the second loads from disk (a hit):
    the draws must be identical."""
    import os
    import subprocess
    import sys

    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import curvecast as cc\n"
        "f = cc.fit([1183, 2957, 5914, 11829], [0.191, 0.262, 0.323, 0.376], draws=100, tune=100, chains=2, seed=7)\n"
        "print(repr(float(f.params_['alpha'].sum())), repr(float(f.params_['room'].sum())))\n"
    )
    env = dict(os.environ, CURVECAST_CACHE_DIR=str(tmp_path / "cache"))
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert list((tmp_path / "cache").glob("cc_*.json")), "the first run should have stored the model"
    assert runs[0].strip() and runs[0] == runs[1]


@pytest.mark.parametrize("family", ["pow3", "exp3", "mmf", "weibull"])
def test_ridge_coordinates_leave_the_posterior_unchanged(family):
    """Sampling room along the ridge is a unit-Jacobian change of coordinates: the
    log-density at corresponding points equals the plain model's exactly."""
    from curvecast.families import NUMPY_OPS

    fam = families.get_family(family)
    priors = merged_priors(fam, None)
    data = CurveData([16.0, 23.0, 32.0, 64.0, 256.0], [0.82, 0.829, 0.831, 0.830, 0.831])
    shape = [p for p in fam.params if p not in ("y_ref", "room")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = build_model(fam, data, priors, ridge_coordinates=False)
        ridge = build_model(fam, data, priors)
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
