"""Which training run to do next: the expected value of the information one more run would give.

The user asks a question of the forecast, either

* :class:`ReachAt` (``--at N``): does the metric reach ``target`` at ``N``? It is
  decided at confidence ``C`` when P(reach) >= C or <= 1 - C; its uncertainty is
  the chance that a yes/no call made now is wrong, ``min(p, 1 - p)``;
* :class:`DataNeeded` (``--prob P``): how much data reaches ``target``? Its
  uncertainty is the spread of the n at which the curve reaches the target, in
  doublings: ``log2(hi / lo)`` of its central ``C`` interval (sizes beyond
  :data:`CAP` times the current data, and "never", count as that cap). It is
  decided when that interval is narrower than a factor ``within`` (2), or when
  P(never reached) or P(already reached) is at least ``C``.

For each candidate size ``n_c``, preposterior analysis: simulate the result of a
run at ``n_c`` from the posterior predictive, find the answer the forecast would
give after it, and average over the results. That gives, per candidate, the
expected uncertainty after the run, its expected reduction and the probability
that the run settles the question. Two ways to find "the answer after it":

* ``weights``: no refit. Every posterior draw ``i`` is reweighted by the
  likelihood of the result, ``Normal(y; curve_i(n_c), sigma_i(n_c))``, where the
  curve includes the draw's model-discrepancy shift (importance sampling; 200
  simulated results, the draw that produced a result left out of its weights).
  This is the Bayesian update of today's posterior; it is instant. It agrees
  with real refits when the model updates like Bayes' rule (a fit without the
  discrepancy term: ``tests/test_decisions.py``);
* ``refit``: the data plus a result at :data:`REFIT_OUTCOMES` stratified
  quantiles of the posterior predictive are fitted again with the fit's own
  model; between those results the reweighted answer is used, shifted by the
  refits' correction (on the probit scale for probabilities, log for sizes).
  curvecast's default discrepancy term is set afresh at every fit (it starts at
  the new largest n and scales with the points near it), so its answers after a
  run are not a reweighting of today's draws. Measured on the COCO curve's first
  4 points (pow3, P(mAP >= 0.45 at 100k), expected P(wrong call) after a run,
  against 20 brute-force refits per size): weights alone 0.10 / 0.07 / 0.04 /
  0.03 at 17k / 24k / 50k / 100k images, ``refit`` 0.18 / 0.15 / 0.09 / 0.03,
  brute force 0.22 / 0.19 / 0.09 / 0.03. ``auto`` (the default) refits when the
  fit has that term, and reweights otherwise.

The recommendation is the cheapest candidate (by cost, else by the samples it
adds) whose expected reduction is at least :data:`GOOD_ENOUGH` of the best one's;
or "stop" when the question is already decided, when the target is out of reach,
or when no candidate is expected to reduce the uncertainty by
:data:`WORTHWHILE` of what it is now.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvecast.data import CurveData
from curvecast.discrepancy import Discrepancy
from curvecast.errors import CurvecastError, DiagnosticsWarning
from curvecast.formats import size
from curvecast.results import as_sizes, check_prob, positive_number
from curvecast.units import Costs, amount, units

if TYPE_CHECKING:
    from collections.abc import Sequence

    from curvecast.results import Forecast

#: a recommended run achieves at least this fraction of the best candidate's expected reduction
GOOD_ENOUGH = 0.8
#: below this fraction of the current uncertainty no run is worth recommending
WORTHWHILE = 0.05
#: sizes beyond CAP x the current data count as out of reach in the spread of the n needed
CAP = 1000.0
#: effective sample sizes of the weights below this make the estimate for a candidate unreliable
ESS_LOW = 30
#: simulated results per candidate: reweighted, and fitted again (answers interpolated between them)
WEIGHT_OUTCOMES, REFIT_OUTCOMES = 200, 5
#: refits use at most this many draws and chains (enough for probabilities to about +-0.02)
REFIT_DRAWS, REFIT_CHAINS = 500, 2
METHODS = ("auto", "weights", "refit")


# -- the questions ------------------------------------------------------------------
@dataclass(frozen=True)
class ReachAt:
    """Does the metric reach ``target`` at ``at``? Uncertainty: P(a yes/no call made now is wrong)."""

    target: float
    at: float
    confidence: float = 0.9

    def draws(self, f: Forecast) -> np.ndarray:
        return (f.data.sign * (f.latent([self.at])[:, 0] - self.target) >= 0).astype(float)

    def parts(self, q: np.ndarray, w: np.ndarray, n_ref: float) -> dict[str, np.ndarray]:
        """What the answer is made of, per weight row of ``w`` (results x draws): P(reach)."""
        return {"p": w @ q}

    def judge(self, parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        p, c = parts["p"], self.confidence
        return parts | {"uncertainty": np.minimum(p, 1 - p), "decided": (p >= c) | (p <= 1 - c), "yes": p >= c}

    def describe(self, f: Forecast) -> str:
        op = ">=" if f.data.increasing else "<="
        return f"P({f.data.y_unit} {op} {self.target:g} at {amount(self.at, f.data.x_unit)})"

    def grid_end(self, q: np.ndarray) -> float:
        return self.at


@dataclass(frozen=True)
class DataNeeded:
    """How much data reaches ``target`` (with probability ``prob``)? Uncertainty: the spread of that n."""

    target: float
    prob: float = 0.8
    confidence: float = 0.9
    within: float = 2.0
    #: sizes beyond this count as out of reach (CAP x the data of the fit the question was asked of)
    cap: float = math.inf

    def draws(self, f: Forecast) -> np.ndarray:
        ns = np.asarray(f.n_star(self.target), float)
        return np.minimum(np.where(np.isnan(ns), np.inf, ns), self.cap)

    def parts(self, q: np.ndarray, w: np.ndarray, n_ref: float) -> dict[str, np.ndarray]:
        """Per weight row: the central interval of the n reached, the n at ``prob``, P(beyond the cap), P(now)."""
        order = np.argsort(q, kind="stable")
        qs, cw = q[order], np.cumsum(w[:, order], axis=1)
        cw /= cw[:, -1:]

        def quantile(level: float) -> np.ndarray:
            return np.asarray(qs[np.minimum(np.argmax(cw >= level - 1e-12, axis=1), qs.size - 1)])

        c = self.confidence
        return {"lower": quantile((1 - c) / 2), "upper": quantile((1 + c) / 2), "n_needed": quantile(self.prob),
                "p_beyond": w @ (q >= self.cap).astype(float), "p_now": w @ (q <= n_ref).astype(float)}  # fmt: skip

    def judge(self, parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        spread, c = np.log2(parts["upper"] / parts["lower"]), self.confidence
        decided = (spread <= math.log2(self.within)) | (parts["p_beyond"] >= c) | (parts["p_now"] >= c)
        return parts | {"uncertainty": spread, "decided": decided}

    def describe(self, f: Forecast) -> str:
        op = ">=" if f.data.increasing else "<="
        return f"the {f.data.x_unit} at which {f.data.y_unit} {op} {self.target:g}"

    def grid_end(self, q: np.ndarray) -> float:
        return float(np.quantile(q, (1 + self.confidence) / 2))


Question = ReachAt | DataNeeded
#: parts of an answer interpolated on the log scale, and on the probit scale, between refits
_LOG_PARTS, _PROB_PARTS = ("lower", "upper", "n_needed"), ("p", "p_beyond", "p_now")


def default_candidates(f: Forecast, question: Question, q: np.ndarray, num: int = 5) -> np.ndarray:
    """A geometric grid from the current largest n up to where the question is decided (``--at N``;
    the upper end of the interval of the n needed), at least twice the data, in round numbers."""
    n_ref = f.data.n_ref
    hi = min(max(question.grid_end(q), 2 * n_ref), CAP * n_ref)
    grid = [float(f"{v:.2g}") for v in np.geomspace(n_ref, hi, num + 1)[1:]]
    if isinstance(question, ReachAt) and question.at > n_ref:
        grid[-1] = question.at
    return np.unique([v for v in grid if v > n_ref])


# -- the answer after a run: reweighted, or fitted again ----------------------------
def simulate(f: Forecast, n_c: float, outcomes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``outcomes`` results of a run at ``n_c`` from the posterior predictive, and the draw behind each:
    the curve of a random draw ``j`` at ``n_c`` plus that draw's noise."""
    mu, sd = f.latent([n_c])[:, 0], f.sigma_at([n_c])[:, 0]
    gen = rng.choice(mu.size, size=min(outcomes, mu.size), replace=False)
    return f.data.clip(mu[gen] + sd[gen] * rng.standard_normal(gen.size)), gen


def reweight(f: Forecast, n_c: float, y: Any, leave_out: np.ndarray | None = None) -> np.ndarray:
    """The posterior after a result ``y`` at ``n_c``, as weights of ``f``'s draws: one row per result.

    ``w_i ∝ Normal(y; curve_i(n_c), sigma_i(n_c))``; ``leave_out[j]`` (the draw that produced the
    ``j``-th simulated result) gets no weight in row ``j``."""
    mu, sd = f.latent([n_c])[:, 0], f.sigma_at([n_c])[:, 0]
    y = np.atleast_1d(np.asarray(y, float))
    logw = -0.5 * ((y[:, None] - mu[None, :]) / sd[None, :]) ** 2 - np.log(sd)[None, :]
    if leave_out is not None:
        logw[np.arange(y.size), leave_out] = -np.inf
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    return np.asarray(w / w.sum(axis=1, keepdims=True))


def with_point(d: CurveData, n: float, y: float) -> CurveData:
    """``d`` with one more measurement ``(n, y)``."""
    return CurveData(np.append(d.n, n), np.append(d.y, y), increasing=d.increasing, metric_min=d.metric_min,
                     metric_max=d.metric_max, name=d.name, x_unit=d.x_unit, y_unit=d.y_unit)  # fmt: skip


def default_refit(f: Forecast, seed: int = 0) -> Callable[[CurveData], Forecast]:
    """``curvecast.fit`` with ``f``'s model: its family (``pow3``, ``pow3+pow4``; ``auto`` for stacking),
    priors and discrepancy term, at most :data:`REFIT_DRAWS` draws x :data:`REFIT_CHAINS` chains; each
    refit gets the next seed."""
    from curvecast.inference import fit

    family = "auto" if f.label.startswith("auto(") else f.label
    s = f.settings
    kw: dict[str, Any] = {
        "draws": min(int(s.get("draws", REFIT_DRAWS)), REFIT_DRAWS),
        "tune": min(int(s.get("tune", REFIT_DRAWS)), REFIT_DRAWS),
        "chains": min(int(s.get("chains", REFIT_CHAINS)), REFIT_CHAINS),
        "discrepancy": Discrepancy.from_dict(s.get("discrepancy")),
    }
    priors: dict[str, dict[str, Any]] = {}
    for c in f.components:
        priors[c.family.name] = {k: p for k, p in c.priors.items() if k in c.family.params}
        priors.setdefault("noise", {k: p for k, p in c.priors.items() if k not in c.family.params})
    seeds = iter(range(seed + 1, seed + 1_000_000))

    def refit(data: CurveData) -> Forecast:
        with warnings.catch_warnings():  # a refit's diagnostics are counted in the answer, not warned about
            warnings.simplefilter("ignore", DiagnosticsWarning)
            return fit(data=data, family=family, priors=priors, seed=next(seeds), **kw)

    return refit


def refit_parts(
    f: Forecast, question: Question, n_c: float, outcomes: int, refit: Callable[[CurveData], Forecast]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Brute force: results at ``outcomes`` stratified quantiles of the posterior predictive at ``n_c``,
    each added to the data and fitted again. Returns the quantile levels, the results and the parts of
    the answer after each refit (and ``problems``: how many refits failed their diagnostics)."""
    levels = (np.arange(outcomes) + 0.5) / outcomes
    ys = np.quantile(f.measured([n_c], seed=0)[:, 0], levels)
    rows, problems = [], 0
    for y in ys:
        g = refit(with_point(f.data, n_c, float(y)))
        problems += bool(g.diagnostics.problems)
        q = question.draws(g)
        rows.append(question.parts(q, np.full((1, q.size), 1.0 / q.size), f.data.n_ref))
    parts = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    return levels, ys, parts | {"problems": np.array([problems])}


def _scale(key: str, v: np.ndarray, eps: float) -> np.ndarray:
    """A part of an answer on the scale it is interpolated on: log for sizes, probit for probabilities."""
    from scipy.special import ndtri

    if key in _LOG_PARTS:
        return np.log(v)
    return np.asarray(ndtri(np.clip(v, eps, 1 - eps))) if key in _PROB_PARTS else v


def _unscale(key: str, v: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    if key in _LOG_PARTS:
        return np.exp(v)
    return np.asarray(ndtr(v)) if key in _PROB_PARTS else v


def interpolate(levels: np.ndarray, parts: dict[str, np.ndarray], num: int = WEIGHT_OUTCOMES) -> dict[str, np.ndarray]:
    """The parts of the answer at ``num`` evenly spread quantiles of the result, interpolated between
    the ones at ``levels`` (sizes on the log scale; constant beyond the outermost)."""
    fine = (np.arange(num) + 0.5) / num
    return {k: _unscale(k, np.interp(fine, levels, _scale(k, v, 0.0))) for k, v in parts.items()}


def corrected(
    f: Forecast, question: Question, n_c: float, levels: np.ndarray, ys: np.ndarray, refitted: dict[str, np.ndarray],
    num: int = WEIGHT_OUTCOMES,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The answer after a result at each of ``num`` quantiles of the posterior predictive: the reweighted
    answer, shifted by the refits' correction (refit minus reweighted, on the log / probit scale) at the
    refitted results and interpolated between them. Where the model updates like Bayes' rule the
    corrections vanish; where it does not, the refits set the level and the weights the shape."""
    q = question.draws(f)
    eps = 0.5 / q.size
    fine = (np.arange(num) + 0.5) / num
    y_fine = np.quantile(f.measured([n_c], seed=0)[:, 0], fine)
    at_fine = question.parts(q, reweight(f, n_c, y_fine), f.data.n_ref)
    at_refits = question.parts(q, reweight(f, n_c, ys), f.data.n_ref)
    out = {}
    for k, v in refitted.items():
        shift = _scale(k, v, eps) - _scale(k, at_refits[k], eps)
        out[k] = _unscale(k, _scale(k, at_fine[k], eps) + np.interp(fine, levels, shift))
    return out


def _method(f: Forecast, method: str) -> str:
    if method != "auto":
        return method
    return "refit" if Discrepancy.from_dict(f.settings.get("discrepancy")).active else "weights"


# -- the decision --------------------------------------------------------------------
def check_options(
    *,
    at: float | None = None,
    prob: float | None = None,
    confidence: float = 0.9,
    within: float = 2.0,
    candidates: Sequence[float] | None = None,
    method: str = "auto",
    outcomes: int | None = None,
    **_: Any,
) -> None:
    """Refuse bad options of :func:`next_run` before any fit (the CLI calls it before sampling)."""
    if at is not None and prob is not None:
        raise CurvecastError("pass either --at N (is the target reached at N?) or --prob P (n needed), not both")
    if at is not None:
        positive_number(at, "--at")
    if prob is not None:
        check_prob(prob, "--prob")
    check_prob(confidence, "--confidence")
    if confidence <= 0.5:
        raise CurvecastError(f"--confidence must lie above 0.5 (a yes/no call at {confidence:g} is a coin toss)")
    if not (math.isfinite(within) and within > 1):
        raise CurvecastError(f"--within must be a factor > 1, got {within}")
    if candidates is not None:
        if len(candidates) == 0:
            raise CurvecastError("--candidates is empty; give sizes such as 20000,50000")
        try:
            as_sizes(candidates)
        except CurvecastError:
            raise CurvecastError("--candidates must be sizes > 0, such as 20000,50000") from None
    if method not in METHODS:
        raise CurvecastError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if outcomes is not None and not 2 <= int(outcomes) <= 100_000:
        raise CurvecastError(f"outcomes must lie in [2, 100000], got {outcomes}")


def next_run(
    f: Forecast,
    target: float,
    *,
    at: float | None = None,
    prob: float | None = None,
    confidence: float = 0.9,
    within: float = 2.0,
    candidates: Sequence[float] | None = None,
    costs: Costs | None = None,
    method: str = "auto",
    outcomes: int | None = None,
    refit: Callable[[CurveData], Forecast] | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The expected value of information of one more training run at each candidate size.

    Parameters
    ----------
    target : float
        The metric value the question is about.
    at : float, optional
        Ask "is ``target`` reached at ``at``?" (:class:`ReachAt`). Without it the question is
        "how much data reaches ``target``?" (:class:`DataNeeded`, n needed with probability ``prob``).
    confidence : float
        The confidence at which a question counts as decided.
    within : float
        :class:`DataNeeded` is decided when the interval of the n needed is narrower than this factor.
    candidates : sizes, optional
        The total training-set sizes a next run could use (default: :func:`default_candidates`).
    costs : Costs, optional
        Linear costs; each candidate then reports the cost of its run.
    method : "auto", "weights" or "refit"
        How the answer after a run is found (see the module docstring).
    outcomes : int, optional
        Simulated results per candidate (default :data:`WEIGHT_OUTCOMES` reweighted,
        :data:`REFIT_OUTCOMES` refitted).
    refit : callable, optional
        ``refit(data) -> Forecast`` for the refits (default :func:`default_refit`).
    progress : callable, optional
        ``progress(done, total)`` after each candidate.

    Returns
    -------
    dict with ``question``, ``now`` (the answer and its uncertainty today), ``candidates`` (one row
    per size: ``n``, ``extra``, ``cost``, ``uncertainty_after``, ``expected_reduction``,
    ``p_settles``...) and ``recommendation`` (``action`` "run" with ``n``, or "stop", and a
    one-line ``message``).
    """
    check_options(at=at, prob=prob, confidence=confidence, within=within, candidates=candidates, method=method,
                  outcomes=outcomes)  # fmt: skip
    f.data.check_target(target)
    method = _method(f, method)
    outcomes = (REFIT_OUTCOMES if method == "refit" else WEIGHT_OUTCOMES) if outcomes is None else int(outcomes)
    question: Question
    if at is not None:
        question = ReachAt(float(target), float(as_sizes(at)[0]), confidence)
    else:
        p = check_prob(0.8 if prob is None else prob)
        question = DataNeeded(float(target), p, confidence, within, cap=CAP * f.data.n_ref)
    d = f.data
    q = question.draws(f)
    cands = default_candidates(f, question, q) if candidates is None else np.unique(as_sizes(candidates))
    if cands.size == 0:
        raise CurvecastError("no candidate size above the current data; pass --candidates n1,n2,...")
    if cands.min() <= d.n_ref:  # a candidate is the total size of the next run, so more than the data has
        raise CurvecastError(
            f"--candidates are total sizes and must exceed the largest measured n ({size(d.n_ref)}); "
            f"got {size(cands.min())}: to add 20,000 {d.x_unit}, pass {d.n_ref + 20_000:.0f}"
        )
    if method == "refit" and refit is None:
        refit = default_refit(f, seed)
    uniform = np.full((1, q.size), 1 / q.size)
    now: dict[str, Any] = {k: v[0].item() for k, v in question.judge(question.parts(q, uniform, d.n_ref)).items()}
    n_star = np.asarray(f.n_star(target), float)
    now["p_never"] = float(np.mean(~np.isfinite(n_star)))
    rng = np.random.default_rng(seed)
    rows = []
    for i, n_c in enumerate(cands):
        ess: float | None = None
        problems = None
        if refit is not None:
            levels, ys, parts = refit_parts(f, question, float(n_c), outcomes, refit)
            problems = int(parts.pop("problems")[0])
            after = question.judge(corrected(f, question, float(n_c), levels, ys, parts))
        else:
            y, gen = simulate(f, float(n_c), outcomes, rng)
            w = reweight(f, float(n_c), y, leave_out=gen)
            after, ess = question.judge(question.parts(q, w, d.n_ref)), float(np.median(1.0 / np.sum(w**2, axis=1)))
        u_after = float(np.mean(after["uncertainty"]))
        row: dict[str, Any] = {
            "n": float(n_c),
            "extra": max(float(n_c) - d.n_ref, 0.0),
            "uncertainty_after": u_after,
            "expected_reduction": now["uncertainty"] - u_after,
            "p_settles": float(np.mean(after["decided"])),
        }
        if isinstance(question, ReachAt):
            row["p_settles_yes"] = float(np.mean(after["yes"]))
            row["p_settles_no"] = row["p_settles"] - row["p_settles_yes"]
        if costs is not None:
            row["cost"] = float(costs.run(n_c, d.n_ref))
        row |= {"ess_median": ess, "refits_with_problems": problems, "reliable": ess is None or ess >= ESS_LOW}
        rows.append(row)
        if progress is not None:
            progress(i + 1, cands.size)
    return {
        "question": question.describe(f),
        "kind": "reach_at" if isinstance(question, ReachAt) else "data_needed",
        "target": float(target),
        "at": None if at is None else float(at),
        "prob": None if isinstance(question, ReachAt) else question.prob,
        "confidence": confidence,
        "within": within if isinstance(question, DataNeeded) else None,
        "cap": question.cap if isinstance(question, DataNeeded) else None,
        "n_current": d.n_ref,
        "method": method,
        "outcomes": outcomes,
        "seed": int(seed),
        "now": now,
        "uncertainty_unit": "P(wrong call)" if isinstance(question, ReachAt) else "doublings",
        "candidates": rows,
        "costs": None if costs is None else costs.to_dict(),
        "recommendation": recommend(question, now, rows, f),
    } | units(d)


def recommend(question: Question, now: dict[str, Any], rows: list[dict[str, Any]], f: Forecast) -> dict[str, Any]:
    """Run the cheapest candidate that gets :data:`GOOD_ENOUGH` of the best expected reduction, or stop."""
    c, what = question.confidence, question.describe(f)
    if now["p_never"] >= c:
        return {"action": "stop", "reason": "out_of_reach",
                "message": f"stop: the target is out of reach with probability {now['p_never']:.2f}"}  # fmt: skip
    if now["decided"]:
        unit = f.data.x_unit
        if isinstance(question, ReachAt):
            answer = f"{what} = {now['p']:.2f}"
        elif now["p_beyond"] >= c:  # the cap, not an interval: out of reach in practice
            answer = (f"with probability {now['p_beyond']:.2f} {what} lies beyond {amount(question.cap, unit)} "
                      f"({size(question.cap / f.data.n_ref)}x the data), out of reach in practice")  # fmt: skip
        elif now["p_now"] >= c:
            answer = f"with probability {now['p_now']:.2f} it is reached at {amount(f.data.n_ref, unit)} already"
        else:
            answer = f"{what} lies in {size(now['lower'])} - {amount(now['upper'], unit)}"
        return {"action": "stop", "reason": "decided",
                "message": f"stop: the question is already decided at confidence {c:g}: {answer}"}  # fmt: skip
    best = max(r["expected_reduction"] for r in rows)
    if best < WORTHWHILE * now["uncertainty"]:
        return {"action": "stop", "reason": "no_run_helps",
                "message": "stop: no candidate run is expected to change the answer; "
                           "try other --candidates, or the model, not the data, limits it"}  # fmt: skip
    good = [r for r in rows if r["expected_reduction"] >= GOOD_ENOUGH * best]
    pick = min(good, key=lambda r: (r.get("cost", r["extra"]), r["n"]))
    money = f", cost {pick['cost']:,.2f}" if "cost" in pick else ""
    msg = (
        f"run at {amount(pick['n'], f.data.x_unit)} (+{size(pick['extra'])}{money}): expected to cut the "
        f"uncertainty from {now['uncertainty']:.3g} to {pick['uncertainty_after']:.3g}; "
        f"it settles the question with probability {pick['p_settles']:.2f}"
    )
    if not pick["reliable"]:
        msg += f" (few effective draws, {pick['ess_median']:.0f}: use more --draws or --method refit)"
    return {"action": "run", "reason": "best_value", "n": pick["n"], "message": msg}
