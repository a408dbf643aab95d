"""Exact tests of the result objects, without sampling: the discrepancy path, CRPS,
stacking weights, diagnostics and the mixture of an averaged fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from curvecast.data import CurveData
from curvecast.diagnostics import Diagnostics
from curvecast.discrepancy import Discrepancy
from curvecast.families import get_family
from curvecast.results import AveragedFit, CurveFit
from curvecast.scores import crps_samples

DATA = CurveData([1000, 2000, 4000, 8000], [0.2, 0.25, 0.3, 0.34])
HEALTHY = Diagnostics(0, 1.0, 1000.0, 1000.0)
DISC = Discrepancy(kappa=0.1, nu=2.0, ell=3.0, w_room=0.5)
Z = np.array([-1.0, 0.0, 2.0])


def pow3_fit(z=Z, disc=DISC, y_ref=0.34, c=0.5, alpha=0.5, sigma=0.01, chains=1):
    fam = get_family("pow3")
    s = z.size
    room = (c - y_ref) / (1.0 - y_ref)
    params = {
        "y_ref": np.full(s, y_ref),
        "room": np.full(s, room),
        "alpha": np.full(s, alpha),
        "sigma": np.full(s, sigma),
        "disc_z": z,
    }
    settings = {"discrepancy": disc.to_dict(), "chains": chains}
    return CurveFit(fam, DATA, dict(fam.priors), params, HEALTHY, settings)


def by_hand(n, z, y_ref=0.34, c=0.5, alpha=0.5):
    """curve + z * kappa * D * h(n): D = sqrt(room to 1 at n_ref * observed spread)."""
    curve = c - (c - y_ref) * (n / 8000.0) ** -alpha
    spread = max(0.34 - 0.2, 0.05 * 0.34, 1e-3)
    d = math.sqrt((1.0 - y_ref) * spread)
    h = 3.0 * (1 - np.exp(-np.maximum(np.log(n / 8000.0), 0) / 3.0))
    return curve[None, :] + z[:, None] * 0.1 * d * h[None, :]


def test_discrepancy_shift_is_zero_inside_the_data_and_exact_beyond():
    f = pow3_fit()
    n = np.array([1000.0, 8000.0, 16_000.0, 80_000.0, 8e6])
    np.testing.assert_allclose(f.latent(n), by_hand(n, Z), rtol=0, atol=1e-14)
    np.testing.assert_allclose(f.latent(n[:2]), np.broadcast_to(by_hand(n[:2], Z[:1]), (3, 2)), atol=1e-14)


def test_discrepancy_off_leaves_the_family_curve():
    f = pow3_fit(disc=Discrepancy(kappa=0.0))
    n = np.array([16_000.0, 80_000.0])
    np.testing.assert_allclose(f.latent(n), np.broadcast_to(by_hand(n, np.zeros(1)), (3, 2)), atol=1e-14)


def test_n_star_solves_curve_plus_shift_equals_target():
    f = pow3_fit()
    target = 0.40
    ns = f.n_star(target)
    assert np.all(np.isfinite(ns)) and np.all(ns > 8000)
    for i, n in enumerate(ns):
        assert by_hand(np.array([n]), Z[i : i + 1])[0, 0] == pytest.approx(target, abs=1e-7)
    # a larger z shifts the curve up, so the target is reached with less data
    assert ns[2] < ns[1] < ns[0]


def test_n_star_is_inf_when_the_shifted_asymptote_falls_short():
    f = pow3_fit(z=np.array([-1.0]))
    # far out the curve approaches c + z * kappa * D * ell; with z = -1 that is below 0.5
    limit = by_hand(np.array([1e30]), np.array([-1.0]))[0, 0]
    assert np.isinf(f.n_star(limit + 0.005)[0])


def test_pointwise_logpdf_is_a_student_t_with_combined_scale():
    f = pow3_fit()
    n = np.array([8000.0, 64_000.0])
    y = np.array([0.34, 0.45])
    curve = by_hand(n, np.zeros(1))[0]
    s = by_hand(n, np.ones(1))[0] - curve  # kappa * D * h(n)
    want = stats.t.logpdf(y, df=2.0, loc=curve, scale=np.sqrt(s**2 + 0.01**2))
    np.testing.assert_allclose(f.pointwise_logpdf(n, y), np.broadcast_to(want, (3, 2)), rtol=1e-12)


def test_log_likelihood_is_the_normal_noise_model_at_the_observed_points():
    f = pow3_fit()
    curve = by_hand(DATA.n, np.zeros(1))[0]
    want = stats.norm.logpdf(DATA.y, loc=curve, scale=0.01)
    np.testing.assert_allclose(f.log_likelihood(), np.broadcast_to(want, (3, 4)), rtol=1e-12)


@pytest.mark.parametrize(("mu", "sd", "y"), [(0.0, 1.0, 0.0), (0.3, 0.05, 0.37), (-2.0, 3.0, 4.0)])
def test_crps_matches_the_closed_form_for_a_normal(mu, sd, y):
    m = 20_000
    draws = stats.norm.ppf((np.arange(m) + 0.5) / m, loc=mu, scale=sd)[:, None]
    z = (y - mu) / sd
    closed = sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    assert crps_samples(draws, np.array([y]))[0] == pytest.approx(closed, rel=2e-3, abs=1e-6)


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert crps_samples(np.full((50, 1), 0.3), np.array([0.5]))[0] == pytest.approx(0.2)


def _fake_fit(curve_shift: float, sigma: float, seed: int) -> CurveFit:
    """A 'fit' whose draws put the curve ``curve_shift`` above the true pow3 through DATA."""
    rng = np.random.default_rng(seed)
    fam = get_family("pow3")
    s = 400
    params = {
        "y_ref": 0.34 + curve_shift + rng.normal(0, 1e-3, s),
        "room": np.full(s, 0.2),
        "alpha": np.full(s, 0.4),
        "sigma": np.full(s, sigma),
    }
    return CurveFit(fam, DATA, dict(fam.priors), params, HEALTHY, {"chains": 4})


def test_stacking_weights_favour_the_model_that_predicts_the_data():
    pytest.importorskip("curvecast.engines")
    from curvecast.inference import stacking_weights

    good, bad = _fake_fit(0.0, 0.02, 1), _fake_fit(0.08, 0.02, 2)
    w = stacking_weights([good, bad])
    assert w.sum() == pytest.approx(1.0) and w[0] > 0.95
    np.testing.assert_allclose(stacking_weights([bad, good]), w[::-1], atol=1e-6)


def test_averaged_fit_draws_follow_the_weights():
    low, high = pow3_fit(z=np.zeros(400), y_ref=0.30), pow3_fit(z=np.zeros(400), y_ref=0.34)
    avg = AveragedFit([low, high], [0.25, 0.75])
    lat = avg.latent([8000.0])[:, 0]
    assert lat.size == 400
    assert np.sum(np.isclose(lat, 0.30)) == 100 and np.sum(np.isclose(lat, 0.34)) == 300
    assert avg.components == [low, high] and avg.weights.tolist() == [0.25, 0.75]


def test_diagnostics_problems_and_round_trip():
    d = Diagnostics(3, 1.02, 350.0, 800.0, retried={"target_accept": 0.95, "divergences": 5})
    assert d.problems == ["3 divergent transitions", "r-hat 1.020 > 1.01", "bulk ESS 350 < 400"]
    assert not d.ok and HEALTHY.ok
    assert Diagnostics.from_dict(d.to_dict()) == d
    assert Diagnostics(0, 1.0104, 900.0, 900.0).problems == ["r-hat 1.01040 > 1.01"]  # not "1.010 > 1.01"


def test_one_chain_has_no_r_hat_and_says_why(caplog):
    import arviz as az

    from curvecast.inference import diagnose

    rng = np.random.default_rng(0)
    idata = az.from_dict(posterior={"a": rng.normal(size=(1, 200))}, sample_stats={"diverging": np.zeros((1, 200))})
    d = diagnose(idata, ["a"])
    assert math.isnan(d.rhat_max) and d.ess_bulk_min > 0
    assert d.problems[0] == "r-hat not computable, run 2 or more chains"
    assert "Shape validation" not in caplog.text  # ArviZ is not asked for an r-hat it cannot give
    assert d.warning().startswith("sampler diagnostics failed (r-hat not computable, run 2 or more chains; ")
    assert Diagnostics.from_dict(d.to_dict()).problems == d.problems


def test_diagnostics_of_a_mixture_ignore_components_without_weight():
    bad = Diagnostics(7, 1.2, 10.0, 10.0)
    mix = Diagnostics.combine({"pow3": HEALTHY, "mmf": bad}, {"pow3": 0.995, "mmf": 0.005})
    assert mix.ok and mix.divergences == 0
    mix = Diagnostics.combine({"pow3": HEALTHY, "mmf": bad}, {"pow3": 0.6, "mmf": 0.4})
    assert mix.divergences == 7 and mix.problems[0] == "mmf: 7 divergent transitions"


def test_diagnostics_read_the_dicts_saved_by_version_0_1():
    old = {"divergences": 2, "rhat_max": 1.001, "ess_bulk_min": 900.0, "ess_tail_min": 700.0, "problems": [], "ok": 1}
    d = Diagnostics.from_dict(old)
    assert d.divergences == 2 and d.problems == ["2 divergent transitions"]
