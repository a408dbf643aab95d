"""Prior value objects, prior tables and TOML prior files (no PyMC needed)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from curvecast import inference
from curvecast.data import PERCENT_NOTE, CurveData
from curvecast.diagnostics import Diagnostics
from curvecast.errors import CurvecastError
from curvecast.families import REGISTRY
from curvecast.prior_sets import NOISE_PRIORS, default_prior_set, known_parameters, merged_priors, prior_notes
from curvecast.priors import (
    DISTRIBUTIONS,
    SYMBOLS,
    Prior,
    check_support,
    load_prior_file,
    parse_prior_table,
    to_toml,
)
from curvecast.results import CurveFit

MODELS = Path(__file__).resolve().parents[1] / "models"
#: the hostile probe's prior file: a [pow4] section only
P9 = {"pow4": {"alpha": Prior("LogNormal", mu=-1.12, sigma=0.5)}}


@pytest.fixture(scope="module")
def known() -> dict[str, dict[str, str]]:
    return known_parameters()


# ---------------------------------------------------------------------------
# Prior validation
# ---------------------------------------------------------------------------
class TestPriorValidation:
    def test_valid_priors(self):
        p = Prior("LogNormal", mu=-0.9, sigma=0.8)
        assert p.dist == "LogNormal"
        assert p.params == {"mu": -0.9, "sigma": 0.8}
        assert p.support == "positive"
        assert p.problems() == []
        assert Prior("Beta", alpha=1, beta=3).support == "unit"
        assert Prior("Normal", mu="y_last", sigma="y_spread").support == "real"

    def test_a_lognormal_too_wide_to_sample_is_refused(self):
        with pytest.raises(CurvecastError, match=r"LogNormal.sigma = 226321 spans more than e\^10 either way"):
            Prior("LogNormal", mu=-1.0, sigma=226321.0)  # what derive --widen 1e6 wrote; it crashed the sampler
        assert Prior("LogNormal", mu=-1.0, sigma=10.0).problems() == []

    def test_derive_refuses_a_widening_that_erases_the_posterior(self):
        from curvecast.transfer import check_widen

        for bad in (0.5, 101.0, 1e308, float("nan")):
            with pytest.raises(CurvecastError, match=r"--widen must lie in \[1, 100\]"):
                check_widen(bad)
        check_widen(1.0)
        check_widen(100.0)

    def test_unknown_distribution(self):
        with pytest.raises(CurvecastError, match=r"unknown distribution 'Lognormal' \(known: Normal"):
            Prior("Lognormal", mu=0.0, sigma=1.0)

    def test_missing_parameter(self):
        with pytest.raises(CurvecastError, match="LogNormal needs parameter\\(s\\) sigma"):
            Prior("LogNormal", mu=0.0)

    def test_extra_parameter(self):
        with pytest.raises(CurvecastError, match=r"LogNormal has no parameter\(s\) scale \(it takes mu, sigma\)"):
            Prior("LogNormal", mu=0.0, sigma=1.0, scale=2.0)

    def test_missing_and_extra_reported_together(self):
        with pytest.raises(CurvecastError, match=r"needs parameter.*; .*has no parameter"):
            Prior("Gamma", alpha=2.0, rate=1.0)

    @pytest.mark.parametrize("bad", [0.0, -1.0, 0])
    def test_non_positive_scale(self, bad):
        with pytest.raises(CurvecastError, match=r"LogNormal\.sigma must be > 0"):
            Prior("LogNormal", mu=0.0, sigma=bad)

    def test_non_positive_shape(self):
        with pytest.raises(CurvecastError, match=r"Beta\.alpha must be > 0, got -2"):
            Prior("Beta", alpha=-2.0, beta=1.0)

    @pytest.mark.parametrize(("lo", "hi"), [(1.0, 1.0), (2.0, 1.0)])
    def test_lower_not_below_upper(self, lo, hi):
        with pytest.raises(CurvecastError, match=r"Uniform: lower \(.*\) must be below upper"):
            Prior("Uniform", lower=lo, upper=hi)
        with pytest.raises(CurvecastError, match=r"TruncatedNormal: lower .* must be below upper"):
            Prior("TruncatedNormal", mu=0.0, sigma=1.0, lower=lo, upper=hi)

    def test_unknown_data_symbol(self):
        with pytest.raises(CurvecastError, match=r"Normal\.mu = 'y_first' is not a number or a known data symbol"):
            Prior("Normal", mu="y_first", sigma=1.0)

    def test_every_data_symbol_is_accepted(self):
        for sym in SYMBOLS:
            assert Prior("Normal", mu=sym, sigma=1.0).params["mu"] == sym

    @pytest.mark.parametrize("value", [True, None, [1.0], {"a": 1}])
    def test_non_number(self, value):
        with pytest.raises(CurvecastError, match=r"Normal\.mu must be a number"):
            Prior("Normal", mu=value, sigma=1.0)

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
    def test_non_finite(self, value):
        with pytest.raises(CurvecastError, match=r"Normal\.mu must be finite"):
            Prior("Normal", mu=value, sigma=1.0)

    def test_error_is_a_value_error(self):
        assert issubclass(CurvecastError, ValueError)
        with pytest.raises(ValueError):
            Prior("Nope")

    def test_frozen(self):
        p = Prior("Normal", mu=0.0, sigma=1.0)
        with pytest.raises(AttributeError):
            p.dist = "LogNormal"  # type: ignore[misc]

    def test_default_priors_are_valid(self):
        for fam in REGISTRY.values():
            for prior in fam.priors.values():
                assert prior.dist in DISTRIBUTIONS
                assert prior.problems() == []


# ---------------------------------------------------------------------------
# conversions
# ---------------------------------------------------------------------------
class TestConversion:
    @pytest.mark.parametrize(
        "prior",
        [
            Prior("LogNormal", mu=-0.9, sigma=0.8),
            Prior(
                "TruncatedNormal",
                mu="y_last",
                sigma="y_spread",
                lower="metric_min",
                upper="metric_max",
            ),
            Prior("Beta", alpha=1.0, beta=3.0),
            Prior("HalfNormal", sigma="y_spread"),
            Prior("StudentT", nu=4, mu=0.0, sigma=2.5),
        ],
        ids=lambda p: p.dist,
    )
    def test_dict_round_trip(self, prior):
        d = prior.to_dict()
        assert d["dist"] == prior.dist
        assert Prior.from_dict(d) == prior
        assert Prior.from_dict(d).to_dict() == d

    @pytest.mark.parametrize("bad", [{"mu": 0.0, "sigma": 1.0}, "LogNormal", None])
    def test_from_dict_needs_a_table_with_dist(self, bad):
        with pytest.raises(CurvecastError, match="must be a table with a 'dist' key"):
            Prior.from_dict(bad)

    def test_from_dict_validates(self):
        with pytest.raises(CurvecastError, match="sigma must be > 0"):
            Prior.from_dict({"dist": "Normal", "mu": 0.0, "sigma": -1.0})

    def test_resolve_replaces_symbols(self):
        p = Prior("TruncatedNormal", mu="y_last", sigma=0.1, lower="metric_min", upper=1)
        sym = dict.fromkeys(SYMBOLS, 0.0) | {"y_last": 0.37, "metric_min": -1.0}
        assert p.resolve(sym) == {"mu": 0.37, "sigma": 0.1, "lower": -1.0, "upper": 1.0}

    def test_describe(self):
        assert Prior("LogNormal", mu=-0.9, sigma=0.8).describe() == "LogNormal(mu=-0.9, sigma=0.8)"
        assert Prior("HalfNormal", sigma="y_spread").describe() == "HalfNormal(sigma=y_spread)"


# ---------------------------------------------------------------------------
# support checks
# ---------------------------------------------------------------------------
class TestSupport:
    @pytest.mark.parametrize(
        ("prior", "support", "ok"),
        [
            (Prior("Normal", mu=0.0, sigma=1.0), "real", True),
            (Prior("LogNormal", mu=0.0, sigma=1.0), "real", True),
            (Prior("Normal", mu=0.0, sigma=1.0), "positive", False),
            (Prior("LogNormal", mu=0.0, sigma=1.0), "positive", True),
            (Prior("Beta", alpha=1.0, beta=1.0), "positive", False),
            (Prior("LogNormal", mu=0.0, sigma=1.0), "unit", False),
            (Prior("Beta", alpha=1.0, beta=1.0), "unit", True),
            (Prior("Uniform", lower=0.0, upper=1.0), "unit", True),
            (Prior("Uniform", lower=0.0, upper=2.0), "unit", False),
            (Prior("Uniform", lower=-1.0, upper=1.0), "positive", False),
            (Prior("Uniform", lower=0.0, upper=50.0), "positive", True),
            (Prior("TruncatedNormal", mu=0.5, sigma=1.0, lower=0.0, upper=1.0), "unit", True),
            # a data-symbol bound is not known to be >= 0
            (
                Prior("TruncatedNormal", mu=0.5, sigma=1.0, lower="metric_min", upper=1.0),
                "unit",
                False,
            ),
        ],
    )
    def test_check_support(self, prior, support, ok):
        problems = check_support(prior, support, "[fam].p")
        if ok:
            assert problems == []
        else:
            assert len(problems) == 1
            assert problems[0].startswith(f"[fam].p: {prior.describe()} allows values outside")
            assert f"{support} support" in problems[0]

    def test_merged_priors_overrides_and_rejects_bad_support(self):
        fam = REGISTRY["pow3"]
        override = Prior("LogNormal", mu=-0.5, sigma=0.3)
        merged = merged_priors(fam, {"pow3": {"alpha": override}})
        assert merged["alpha"] == override
        assert merged["sigma"] == NOISE_PRIORS["sigma"]
        assert fam.priors["alpha"] != override  # defaults untouched
        with pytest.raises(CurvecastError, match=r"\[pow3\]\.alpha: Normal\(.*positive support"):
            merged_priors(fam, {"pow3": {"alpha": Prior("Normal", mu=0.0, sigma=1.0)}})


# ---------------------------------------------------------------------------
# prior tables and files
# ---------------------------------------------------------------------------
class TestPriorTable:
    def test_valid_table(self, known):
        table = {
            "pow3": {"alpha": {"dist": "LogNormal", "mu": -0.5, "sigma": 0.5}},
            "noise": {"sigma": {"dist": "HalfNormal", "sigma": "y_spread"}},
        }
        out = parse_prior_table(table, known)
        assert out == {
            "pow3": {"alpha": Prior("LogNormal", mu=-0.5, sigma=0.5)},
            "noise": {"sigma": Prior("HalfNormal", sigma="y_spread")},
        }

    def test_collects_every_problem(self, known):
        table = {
            "pow5": {"alpha": {"dist": "LogNormal", "mu": 0.0, "sigma": 1.0}},
            "pow3": {
                "beta": {"dist": "LogNormal", "mu": 0.0, "sigma": 1.0},
                "alpha": {"dist": "Lognormal", "mu": 0.0, "sigma": 1.0},
                "room": {"dist": "Beta", "alpha": -1.0, "beta": 2.0},
                "y_ref": {"dist": "Normal", "mu": "y_first", "sigma": 1.0},
            },
            "exp3": {"beta": {"dist": "Normal", "mu": 0.0, "sigma": 1.0}},
            "log": {"b": 0.5},
            "hill3": "LogNormal",
        }
        with pytest.raises(CurvecastError) as info:
            parse_prior_table(table, known)
        msg = str(info.value)
        assert msg.startswith("invalid priors:")
        expected = [
            "[pow5]: unknown family (known: ",
            "[pow3].beta: unknown parameter (known: y_ref, room, alpha)",
            "[pow3].alpha: unknown distribution 'Lognormal'",
            "[pow3].room: Beta.alpha must be > 0, got -1.0",
            "[pow3].y_ref: Normal.mu = 'y_first' is not a number or a known data symbol",
            "[exp3].beta: Normal(mu=0, sigma=1) allows values outside the parameter's positive support",
            "[log].b: must be a table like",
            "[hill3] must be a table of parameter = prior",
        ]
        for e in expected:
            assert e in msg, e
        assert msg.count("\n  - ") == len(expected)

    def test_noise_parameter_is_known(self, known):
        with pytest.raises(CurvecastError, match=r"\[noise\]\.tau: unknown parameter \(known: sigma, gamma\)"):
            parse_prior_table({"noise": {"tau": {"dist": "HalfNormal", "sigma": 1.0}}}, known)


VALID_TOML = """\
# curvecast priors
[pow3]
alpha = { dist = "LogNormal", mu = -0.92, sigma = 0.8 }
room = { dist = "Beta", alpha = 1, beta = 4 }

[noise]
sigma = { dist = "LogNormal", mu = "log_noise_scale", sigma = 1.0 }
"""


class TestPriorFile:
    def test_load_valid(self, tmp_path, known):
        path = tmp_path / "priors.toml"
        path.write_text(VALID_TOML)
        out = load_prior_file(path, known)
        assert out == {
            "pow3": {
                "alpha": Prior("LogNormal", mu=-0.92, sigma=0.8),
                "room": Prior("Beta", alpha=1, beta=4),
            },
            "noise": {"sigma": Prior("LogNormal", mu="log_noise_scale", sigma=1.0)},
        }
        assert load_prior_file(str(path), known) == out  # str paths too

    def test_load_invalid_content(self, tmp_path, known):
        path = tmp_path / "priors.toml"
        path.write_text(
            '[pow3]\nalpha = { dist = "Normal", mu = 0, sigma = 1 }\n'
            '[nope]\nx = { dist = "Normal", mu = 0, sigma = 1 }\n'
        )
        with pytest.raises(
            CurvecastError,
            match=r"(?s)invalid priors:.*\[pow3\]\.alpha: .*positive support"
            r".*\[nope\]: unknown family",
        ):
            load_prior_file(path, known)

    def test_load_invalid_toml_syntax(self, tmp_path, known):
        path = tmp_path / "priors.toml"
        path.write_text('[pow3]\nalpha = { dist = "LogNormal", mu = -0.9, sigma = }\n')
        with pytest.raises(CurvecastError, match=r"prior file '.*priors\.toml' is not valid TOML"):
            load_prior_file(path, known)

    def test_load_non_utf8(self, tmp_path, known):
        path = tmp_path / "priors.toml"
        path.write_bytes(b"[pow3]\nalpha = \xff\xfe\n")
        with pytest.raises(CurvecastError, match="is not valid TOML"):
            load_prior_file(path, known)

    def test_load_missing_file(self, tmp_path, known):
        with pytest.raises(CurvecastError, match=r"prior file '.*missing\.toml' not found"):
            load_prior_file(tmp_path / "missing.toml", known)

    def test_load_directory(self, tmp_path, known):
        with pytest.raises(CurvecastError, match=r"not found; pass an existing \.toml file"):
            load_prior_file(tmp_path, known)

    def test_to_toml_round_trip_all_defaults(self, tmp_path, known):
        priors = {name: dict(fam.priors) for name, fam in REGISTRY.items()}
        priors["noise"] = dict(NOISE_PRIORS)
        text = to_toml(priors, header="default priors\nof every family")
        assert text.startswith("# default priors\n# of every family\n")
        assert tomllib.loads(text)  # valid TOML
        path = tmp_path / "defaults.toml"
        path.write_text(text)
        assert load_prior_file(path, known) == priors

    def test_to_toml_round_trip_file(self, tmp_path, known):
        src = tmp_path / "a.toml"
        src.write_text(VALID_TOML)
        loaded = load_prior_file(src, known)
        out = tmp_path / "b.toml"
        out.write_text(to_toml(loaded))
        assert load_prior_file(out, known) == loaded

    def test_to_toml_number_formats(self, known):
        priors = {
            "pow3": {"alpha": Prior("LogNormal", mu=-1e-7, sigma=1.2345678901234)},
            "log": {"b": Prior("Gamma", alpha=2, beta=1e20)},
        }
        text = to_toml(priors)
        assert parse_prior_table(tomllib.loads(text), known) == priors


# ---------------------------------------------------------------------------
# Notes on what a prior set leaves unsaid about the model fitted
# ---------------------------------------------------------------------------
class TestPriorNotes:
    def test_a_section_for_a_family_not_fitted_is_unused(self):
        assert prior_notes(P9, ["pow3"], "pow3") == [
            "the priors' [pow4] section is unused: the model is pow3",
            "pow3 keeps the built-in priors: the prior file has no [pow3] section",
        ]
        assert prior_notes(P9, ["pow4"], "pow4") == []

    def test_a_fitted_family_without_a_section_keeps_the_built_in_priors(self, known):
        detection = load_prior_file(MODELS / "detection-map.toml", known)  # [pow3] only
        assert prior_notes(detection, ["pow3", "pow4"], "pow3+pow4") == [
            "pow4 keeps the built-in priors: the prior file has no [pow4] section"
        ]
        assert prior_notes(detection, ["pow3"], "pow3") == []

    def test_noise_applies_to_every_family(self):
        noise = {"noise": dict(NOISE_PRIORS)}
        assert prior_notes(noise, ["pow3", "pow4"], "pow3+pow4") == []  # a noise-only file overrides no family
        assert prior_notes(noise | P9, ["pow4"], "pow4") == []  # and is never unused
        assert prior_notes(None, ["pow3"], "pow3") == prior_notes({}, ["pow3"], "pow3") == []

    def test_several_unused_sections_make_one_note(self):
        others = [f"[{f}]" for f in REGISTRY if f not in ("pow3", "pow4")]
        assert prior_notes(default_prior_set(), ["pow3", "pow4"], "pow3+pow4") == [
            f"the priors' sections of {len(others)} other families ({', '.join(others[:3])}, ...) are unused: "
            "the model is pow3+pow4"
        ]
        two = {"exp3": {}, "mmf": {}, "pow3": {}}
        want = "the priors' [exp3], [mmf] sections are unused: the model is pow3"
        assert prior_notes(two, ["pow3"], "pow3") == [want]


class TestFitNotes:
    """``inference.fit`` puts the notes on the answer for every kind of model (families faked: no sampling)."""

    @pytest.fixture(autouse=True)
    def fake_sampling(self, monkeypatch):
        def fit_one(data, fam, priors, **kw):
            params = {p: np.full(8, 0.5) for p in (*fam.params, "sigma")}
            diag = Diagnostics(divergences=0, rhat_max=1.0, ess_bulk_min=1e3, ess_tail_min=1e3)
            return CurveFit(fam, data, merged_priors(fam, priors), params, diag, {"chains": 1})

        monkeypatch.setattr(inference, "_fit_one", fit_one)
        monkeypatch.setattr(inference, "stacking_weights", lambda fits: np.full(len(fits), 1 / len(fits)))

    @staticmethod
    def curve(sizes: int) -> CurveData:
        n = 1000 * 2.0 ** np.arange(sizes)
        return CurveData(n, 20 + 5 * np.log2(n / 1000))  # percentages: the data's own note comes first

    def test_default_model_on_four_sizes_fits_pow3_only(self):
        f = inference.fit(data=self.curve(4), priors=P9, check=False)
        assert f.label == "pow3" and f.describe()["notes"] == [
            PERCENT_NOTE,
            "the priors' [pow4] section is unused: the model is pow3",
            "pow3 keeps the built-in priors: the prior file has no [pow3] section",
        ]

    def test_mixture_family_without_a_section(self):
        f = inference.fit(data=self.curve(6), priors=MODELS / "detection-map.toml", check=False)
        note = "pow4 keeps the built-in priors: the prior file has no [pow4] section"
        assert f.label == "pow3+pow4" and f.describe()["notes"] == [PERCENT_NOTE, note]
        assert all(c.data.notes == (PERCENT_NOTE, note) for c in f.components)

    def test_other_family_and_auto(self):
        f = inference.fit(data=self.curve(4), family="exp3", priors=P9, check=False)
        assert f.data.notes[1] == "the priors' [pow4] section is unused: the model is exp3"
        f = inference.fit(data=self.curve(4), family="auto", priors=P9, check=False)
        assert [c.family.name for c in f.components] == ["pow3", "pow4", "mmf"]
        assert f.data.notes[1:] == (
            "pow3 keeps the built-in priors: the prior file has no [pow3] section",
            "mmf keeps the built-in priors: the prior file has no [mmf] section",
        )

    def test_no_priors_no_notes(self):
        d = self.curve(4)
        assert inference.fit(data=d, check=False).data is d
        assert inference.fit(data=d, priors={"noise": dict(NOISE_PRIORS)}, check=False).data is d


class TestLevelPrior:
    """A prior file's y_ref (the curve's level at the largest size) outside the bounds, or far from the
    level measured there, is refused before sampling: the fit would follow it past the bound."""

    FRACTIONS = ([1183, 2957, 5914, 11829], [0.191, 0.262, 0.323, 0.376])

    @pytest.mark.parametrize(
        ("y", "prior", "match"),
        [
            ([0.191, 0.262, 0.323, 0.376], Prior("Normal", mu=1.5, sigma=0.01), "contradicts the data"),
            ([19.1, 26.2, 32.3, 37.6], Prior("Normal", mu=0.37, sigma=0.01), "measures 37.6"),  # fractions' prior
            ([0.191, 0.262, 0.323, 0.376], Prior("Normal", mu=1.2, sigma=0.9), r"puts 68% of the curve's level "
             r"outside the metric's bounds \[0.0, 1.0\]"),
        ],
    )  # fmt: skip
    def test_refused_before_sampling(self, y, prior, match):
        import curvecast as cc

        with pytest.raises(CurvecastError, match=match):
            cc.fit(self.FRACTIONS[0], y, family="pow3", priors={"pow3": {"y_ref": prior}})

    def test_a_prior_on_the_data_s_scale_passes(self):
        from curvecast.data import CurveData
        from curvecast.families import get_family
        from curvecast.prior_sets import check_level_prior

        data = CurveData(*self.FRACTIONS)
        default = Prior("TruncatedNormal", mu="y_last", sigma="y_spread", lower="metric_min", upper="metric_max")
        for prior in (Prior("Normal", mu=0.37, sigma=0.02), default, Prior("StudentT", nu=3, mu=0.4, sigma=0.05)):
            check_level_prior(get_family("pow3"), {"pow3": {"y_ref": prior}}, data)


def test_a_prior_band_is_widened_by_no_misfit_of_the_data():
    from curvecast.discrepancy import Discrepancy
    from curvecast.transfer import before_the_data

    settings = {"seed": 1, "discrepancy": Discrepancy(kappa=0.1, lam=1.0, misfit=0.04, points=4).to_dict()}
    prior = before_the_data(settings)
    assert Discrepancy.from_dict(prior["discrepancy"]).misfit == 0.0 and prior["seed"] == 1
    assert settings["discrepancy"]["misfit"] == 0.04  # the posterior's settings are left as they were
    assert before_the_data({"seed": 1}) == {"seed": 1}
