"""Prior sets: the family defaults, the shared noise priors, and user overrides merged over them.

No PyMC here: this module only knows the registry and :class:`~curvecast.priors.Prior`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from curvecast.errors import CurvecastError
from curvecast.families import REGISTRY, RESERVED_PARAMS, Family
from curvecast.priors import SYMBOLS, Prior, PriorSet, check_support, to_toml

if TYPE_CHECKING:
    from curvecast.data import CurveData

#: the observation-noise parameters, shared by every family
#: ``sigma`` is the noise SD at n_ref; with replicate runs the noise may also shrink
#: with n as ``sigma * (n / n_ref)^-gamma`` (replicates make ``gamma`` identifiable)
NOISE_PARAMS = {"sigma": "positive", "gamma": "positive"}
NOISE_PRIORS = {
    "sigma": Prior("LogNormal", mu="log_noise_scale", sigma=0.5),
    "gamma": Prior("HalfNormal", sigma=0.5),
}
assert set(NOISE_PARAMS) <= set(RESERVED_PARAMS)


def known_parameters() -> dict[str, dict[str, str]]:
    """``{family: {param: support}}`` plus ``"noise"``, for validating prior files."""
    out = {name: dict(fam.params) for name, fam in REGISTRY.items()}
    out["noise"] = dict(NOISE_PARAMS)
    return out


def default_prior_set() -> PriorSet:
    """Every registered family's default priors plus the noise priors (``models/default.toml``)."""
    return {**{name: dict(fam.priors) for name, fam in REGISTRY.items()}, "noise": dict(NOISE_PRIORS)}


def merged_priors(family: type[Family], overrides: PriorSet | None) -> dict[str, Prior]:
    """Family defaults and the noise prior, with user overrides merged over copies."""
    out = dict(family.priors) | dict(NOISE_PRIORS)
    if overrides:
        out |= overrides.get("noise", {})
        out |= overrides.get(family.name, {})
    problems: list[str] = []
    supports = dict(family.params) | NOISE_PARAMS
    for pname, prior in out.items():
        problems += check_support(prior, supports[pname], f"[{family.name}].{pname}")
    if problems:
        raise CurvecastError("invalid priors:\n  - " + "\n  - ".join(problems))
    return out


#: the level prior (y_ref, the curve at the largest size) must keep at least this share inside the bounds
LEVEL_INSIDE_MIN = 0.5
#: ... and must not put the level measured at the largest size this far in its tails (two-sided)
LEVEL_TAIL_MIN = 1e-6


def check_level_prior(family: type[Family], overrides: PriorSet | None, data: CurveData) -> None:
    """Refuse a prior file's level prior (``y_ref``, the curve at the largest size) that puts most of its mass
    outside the metric's bounds, or the level measured there deep in its tails: the fit would follow the
    prior past the bound (an asymptote of 1.42 for mAP), or a prior for fractions would pull percentages
    to 0.37. Normal, StudentT and TruncatedNormal priors are checked, with the data's symbols filled in."""
    from scipy import stats

    prior = (overrides or {}).get(family.name, {}).get("y_ref")
    lo, hi = data.metric_min, data.metric_max
    if prior is None or prior.dist not in ("Normal", "StudentT", "TruncatedNormal") or (lo is None and hi is None):
        return
    syms = data.symbols()
    v, y_last = prior.resolve(syms), syms["y_last"]
    dist = stats.t(v["nu"], v["mu"], v["sigma"]) if prior.dist == "StudentT" else stats.norm(v["mu"], v["sigma"])
    bottom, top, kept = -math.inf if lo is None else lo, math.inf if hi is None else hi, 1.0
    if prior.dist == "TruncatedNormal":  # its own bounds cut it: the share of what is left
        bottom, top = max(v["lower"], bottom), min(v["upper"], top)
        kept = float(dist.cdf(v["upper"]) - dist.cdf(v["lower"]))
    inside = max(float(dist.cdf(top) - dist.cdf(bottom)), 0.0) / kept if kept > 0 else 0.0
    tail = 2 * min(float(dist.cdf(y_last)), float(dist.sf(y_last)))
    if tail < LEVEL_TAIL_MIN:  # the measurement at n_ref pins the level: a prior this far off is a mistake
        raise CurvecastError(
            f"[{family.name}].y_ref = {prior.describe()} contradicts the data: the curve at its largest size "
            f"measures {y_last:.4g}, outside the prior's central {1 - LEVEL_TAIL_MIN:.4%}; is the prior on this "
            "metric's scale (a fraction vs a percentage)? Fix the prior, or drop its y_ref"
        )
    if inside < LEVEL_INSIDE_MIN:
        raise CurvecastError(
            f"[{family.name}].y_ref = {prior.describe()} puts {1 - inside:.0%} of the curve's level outside the "
            f"metric's bounds [{lo}, {hi}] (the data at n_ref: {y_last:.4g}): is the prior on "
            "this metric's scale (a fraction vs a percentage)? Fix the prior, or pass --metric-min/--metric-max"
        )


def prior_notes(priors: PriorSet | None, families: list[str], model: str) -> list[str]:
    """What a prior set leaves unsaid about the ``families`` fitted for ``model``: its family sections that
    no fitted family uses, and each fitted family it has no section for while it has some for others (that
    family keeps the built-in priors). Shared sections such as ``[noise]`` apply to every family."""
    own = [name for name in priors or {} if name in REGISTRY]
    unused = [f"[{name}]" for name in own if name not in families]
    out = []
    if len(unused) > 3:  # a library file (models/default.toml) covers every family: say how many
        out.append(f"the priors' sections of {len(unused)} other families ({', '.join(unused[:3])}, ...) are "
                   f"unused: the model is {model}")  # fmt: skip
    elif unused:
        are = "sections are" if len(unused) > 1 else "section is"
        out.append(f"the priors' {', '.join(unused)} {are} unused: the model is {model}")
    if own:
        out += [f"{f} keeps the built-in priors: the prior file has no [{f}] section" for f in families if f not in own]
    return out


#: resolved prior parameters beyond these magnitudes overflow the sampler's arithmetic
MAX_LOG_LOCATION = 50.0
MAX_MAGNITUDE = 1e10


def resolved_problems(priors: dict[str, Prior], symbols: dict[str, float], where: str) -> list[str]:
    """Problems of the priors once their data symbols take this curve's values: non-finite or absurd
    numbers, bounds in the wrong order (found before sampling, not as a failed initialisation)."""
    out = []
    for pname, prior in priors.items():
        values = prior.resolve(symbols)
        label = f"[{where}].{pname} = {prior.describe()}"
        big = [k for k, v in values.items() if not (abs(v) <= MAX_MAGNITUDE)]
        if big:
            out.append(f"{label}: {', '.join(big)} is not a finite number below {MAX_MAGNITUDE:g} for this curve")
        elif prior.dist == "LogNormal" and abs(values["mu"]) > MAX_LOG_LOCATION:
            out.append(f"{label}: mu is a log-scale location; |mu| > {MAX_LOG_LOCATION:g} overflows")
        elif "lower" in values and not values["lower"] < values["upper"]:
            out.append(f"{label}: lower ({values['lower']:g}) must be below upper ({values['upper']:g}) for this curve")
    return out


DEFAULT_HEADER = """\
curvecast default priors: every registered family's priors and the shared noise priors.
Generated from the family registry (curvecast.families) and curvecast.prior_sets.NOISE_PRIORS
by `curvecast priors default -o models/default.toml`; do not edit by hand (tests/test_models.py
and tests/test_cli.py check that this file and the code agree). Why these values: the family
docstrings in curvecast/families.py and the comments in curvecast/prior_sets.py. y_ref is
centred on the last observed value and only kept inside the metric's bounds; room, the fraction
of the remaining room to the bound that more data can still win, is Beta(1, 3) for most families.

Values are numbers or data symbols resolved per curve:
"""


def default_toml() -> str:
    """``models/default.toml``: the default prior set with a header naming its source and the data symbols."""
    symbols = "\n".join(f"  {k:<16} {what}" for k, what in SYMBOLS.items())
    return to_toml(default_prior_set(), DEFAULT_HEADER + symbols)
