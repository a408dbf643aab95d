"""Real NUTS fits (small), reproducibility, persistence and library input errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import curvecast as cc
from curvecast.errors import CurvecastError
from tests.conftest import COCO_N, COCO_Y


@pytest.mark.sampling
def test_small_real_fit_answers_the_questions(coco_fit):
    d = coco_fit.diagnostics
    assert d.divergences == 0 and d.rhat_max < 1.05
    # P(reach) is the fraction of curve draws at or above the target
    lat = coco_fit.latent([100_000])[:, 0]
    assert coco_fit.prob(0.5, [100_000])[0] == np.mean(lat >= 0.5)
    need = coco_fit.need(0.5, prob=0.8)
    assert need["n_needed"] > COCO_N.max()
    band = coco_fit.bands([20_000, 100_000])
    assert np.all(np.diff(band[["q5", "q25", "q50", "q75", "q95"]].to_numpy(), axis=1) >= 0)
    # the curve passes close to the observed points
    assert np.abs(np.median(coco_fit.latent(COCO_N), axis=0) - COCO_Y).max() < 0.02


@pytest.mark.sampling
def test_idata_is_arviz(coco_fit):
    import arviz as az

    assert isinstance(coco_fit.idata_, az.InferenceData)
    assert coco_fit.idata_.posterior.sizes["chain"] == 4 and "alpha" in coco_fit.idata_.posterior


@pytest.mark.sampling
def test_same_seed_same_numbers(coco_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = cc.fit(COCO_N, COCO_Y, family="pow3", draws=150, tune=300, chains=4, seed=3)
    np.testing.assert_array_equal(again.params_["alpha"], coco_fit.params_["alpha"])


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_seeds_the_engines_cannot_take_are_refused(seed):
    with pytest.raises(CurvecastError, match="seed"):
        cc.fit(COCO_N, COCO_Y, draws=20, tune=20, chains=1, seed=seed)


@pytest.mark.parametrize(
    ("n", "y", "kw", "match"),
    [
        ([1, 2, np.nan, 4], [0.1, 0.2, 0.3, 0.4], {}, "NaN"),
        ([0, 2, 3, 4], [0.1, 0.2, 0.3, 0.4], {}, "n must be > 0"),
        ([1, 1, 2, 2], [0.1, 0.2, 0.3, 0.4], {}, "at least 3 distinct n"),
        ([1, 2, 3, 4], [0.1, 0.2, 0.3, 1.4], {"metric_max": 1.0}, "above the metric's upper bound"),
        ([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4], {"family": "nope"}, "unknown family"),
        (
            [1, 2, 3, 4],
            [0.1, 0.2, 0.3, 0.4],
            {"priors": {"pow3": {"alpha": {"dist": "Bogus"}}}},
            "unknown distribution",
        ),
        (
            [1, 2, 3, 4],
            [0.1, 0.2, 0.3, 0.4],
            {"priors": {"pow3": {"beta": {"dist": "HalfNormal", "sigma": 1}}}},
            "unknown parameter",
        ),
        ([1, 2, 3, 4], [110.0, 220.0, 330.0, 440.0], {}, "needs an upper bound|metric_max|--metric-max"),
    ],
)
def test_bad_library_input_raises_value_error(n, y, kw, match):
    with pytest.raises(ValueError, match=match):
        cc.fit(n, y, draws=20, tune=20, chains=1, **kw)


@pytest.mark.slow
def test_parameter_recovery_on_synthetic_data():
    """Noisy pow3 data with 8 sizes: the true curve at 10x the data lies in the 90 % band."""
    rng = np.random.default_rng(11)
    n = np.geomspace(4_000, 64_000, 8)
    c, a, alpha = 0.8, 0.15, 0.45  # y from 0.28 to 0.65
    truth = c - a * (n / n.max()) ** -alpha  # so y_ref = c - a
    y = truth + rng.normal(0, 0.005, n.size)
    f = cc.fit(n, y, family="pow3", draws=1000, chains=4, seed=5)
    assert f.diagnostics.divergences == 0
    assert np.quantile(f.params_["alpha"], 0.05) < alpha < np.quantile(f.params_["alpha"], 0.95)
    band = f.bands([640_000])
    true_far = c - a * 10.0**-alpha
    assert band["q5"][0] < true_far < band["q95"][0]


@pytest.mark.slow
def test_done_when_coco_default_fit_is_healthy():
    """Issue 2's acceptance check: 0 divergences, r-hat <= 1.01, bulk ESS >= 400."""
    f = cc.fit(COCO_N, COCO_Y, seed=0)
    d = f.diagnostics
    assert d.divergences == 0 and d.rhat_max <= 1.01 and d.ess_bulk_min >= 400


@pytest.mark.sampling
def test_divergent_fit_is_retried_with_smaller_steps(monkeypatch):
    """A fit with divergences is sampled again at RETRY_TARGET_ACCEPT and says so."""
    from curvecast import inference
    from curvecast.diagnostics import Diagnostics

    seen: list[float] = []
    real_get, real_diagnose = inference.get_engine, inference.diagnose

    class Spy:
        def __init__(self, name):
            self.inner = real_get(name)
            self.name = self.inner.name

        def sample(self, spec, **k):
            seen.append(k["target_accept"])
            return self.inner.sample(spec, **k)

    def diagnose(idata, names):
        d = real_diagnose(idata, names)
        if len(seen) == 1:  # pretend the first try diverged
            return Diagnostics(3, d.rhat_max, d.ess_bulk_min, d.ess_tail_min)
        return d

    monkeypatch.setattr(inference, "get_engine", Spy)
    monkeypatch.setattr(inference, "diagnose", diagnose)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cc.fit(COCO_N, COCO_Y, draws=100, tune=100, chains=2, seed=1, check=False)
    assert seen == [0.95, inference.RETRY_TARGET_ACCEPT]
    assert f.diagnostics.retried == {"target_accept": 0.95, "divergences": 3}
    assert f.settings["target_accept"] == inference.RETRY_TARGET_ACCEPT
    seen.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = cc.fit(COCO_N, COCO_Y, draws=100, tune=100, chains=2, seed=1, retry_divergent=False, check=False)
    assert seen == [0.95] and g.diagnostics.retried is None
    seen.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cc.fit(COCO_N, COCO_Y, family="auto", draws=100, tune=100, chains=2, seed=1, retry_divergent=False, check=False)
    assert seen == [0.95] * 3  # the averaged path honours the switch too


# -- the default model: an equal-weight pow3 + pow4 mixture -------------------------------------
LONG_N = 1000 * 2.0 ** np.arange(8)
LONG_Y = 0.8 - 0.5 * (LONG_N / 1000) ** -0.4


@pytest.fixture(scope="module")
def default_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cc.fit(LONG_N, LONG_Y + 0.003 * np.sin(np.arange(8)), draws=200, tune=200, chains=2, seed=1)


@pytest.mark.sampling
def test_the_default_is_an_equal_weight_mixture_sharing_the_draws(default_fit, tmp_path):
    f = default_fit
    assert f.label == "pow3+pow4" and f.weights_table() == {"pow3": 0.5, "pow4": 0.5}
    assert [c.settings["draws"] for c in f.components] == [100, 100]  # one fit's budget, shared
    assert f.latent([1e6]).shape == (400, 1)  # as many draws as one family with 200 per chain
    for c in f.components:  # each family carries its own evidence for the extrapolation term
        disc = c.discrepancy
        assert disc.points == 8 and disc.misfit > 0 and disc.lam > 0
        assert "gamma" in c.params_  # eight sizes: the noise may trend with n
    cc.save(f, tmp_path / "mix.nc")
    back = cc.load(tmp_path / "mix.nc")
    assert back.label == "pow3+pow4"
    np.testing.assert_array_equal(back.prob(0.75, [1e6]), f.prob(0.75, [1e6]))


@pytest.mark.sampling
def test_below_six_sizes_the_mixture_keeps_its_first_family():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cc.fit(LONG_N[:5], LONG_Y[:5], draws=100, tune=100, chains=2, seed=1, check=False)
    assert f.label == "pow3" and f.components == [f]


def test_a_mixture_naming_a_family_twice_is_refused():
    with pytest.raises(cc.CurvecastError, match="twice"):
        cc.fit(LONG_N, LONG_Y, family="pow3+pow3")
