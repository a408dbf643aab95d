"""Answers laid out for people: each function turns an answer into :class:`Table` objects and lines.

A line is text with key numbers in ``**bold**`` (Markdown). The CLI prints these blocks with rich
(``curvecast.console.show``), the HTML report renders the same tables, and in a notebook
``Table.to_frame()`` gives a DataFrame. Nothing here samples or decides; it only lays numbers out.

Each function takes the answer its command prints with ``--json``: for ``need``, ``gain``, ``next_run``
and ``comparison`` that is the library's own dict (``Forecast.need`` or ``costed_need``, ``costed_gain``,
``next_run``, ``compare``); ``prob`` and ``predict`` take the small dicts their docstrings name.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curvecast.formats import pct, size
from curvecast.units import amount

if TYPE_CHECKING:
    import pandas as pd

    from curvecast.results import Forecast, PooledFit


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; the first ``text_columns`` columns are text, the rest numbers."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    text_columns: int = 1

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([r + ["-"] * (len(self.columns) - len(r)) for r in self.rows], columns=self.columns)


Block = str | Table
#: the key numbers of a line: ``**bold**``, as in Markdown
BOLD = re.compile(r"\*\*(.+?)\*\*")


def n(v: float, fmt: str | None = None, never: str = "never") -> str:
    """A size (:func:`curvecast.units.size`), or a cost with ``fmt``; ``never`` where it is infinite."""
    if not math.isfinite(v):
        return never
    return size(v) if fmt is None else f"{v:{fmt}}"


def caption(f: Forecast | PooledFit) -> str:
    """The model and its sampler diagnostics in one line."""
    d = f.diagnostics
    rhat = n(d.rhat_max, ".3f", "n/a")
    text = f"{f.label} · divergences {d.divergences} · r-hat max {rhat} · bulk ESS min {d.ess_bulk_min:.0f}"
    if d.retried:
        text += (
            f" · refit at target_accept {f.settings['target_accept']:g} after {d.retried['divergences']} divergences"
        )
    return text


def op(increasing: bool) -> str:
    return ">=" if increasing else "<="


def quantiles(title: str, summary: dict[str, dict[str, float]], cap: str = "") -> Table:
    rows = [[k, *(f"{v[q]:.4g}" for q in ("median", "q5", "q95"))] for k, v in summary.items()]
    return Table(title, ["quantity", "median", "5 %", "95 %"], rows, cap)


NO_ASYMPTOTE = "Note: this family has no asymptote: P(reach) -> 1 for every target as n grows; that is an assumption"


def fit(f: Forecast, r: dict[str, Any]) -> list[Block]:
    d = f.data
    return [quantiles(f"Fit of {d.name} ({d.y_unit} against {d.x_unit}) -> {r['output']}", r["summary"], caption(f))]


def pooled(pf: PooledFit, r: dict[str, Any]) -> list[Block]:
    ps = list(pf.family.params)
    rows = [[k, *(f"{c['summary'][p]['median']:.4g}" for p in ps), c["output"]] for k, c in r["curves"].items()]
    return [
        quantiles("Pooled hyper-posterior (log scale for rates, logit for room)", r["hyper"]),
        Table(f"Per-curve posterior medians ({pf.family.name})", ["curve", *ps, "file"], rows, caption(pf)),
    ]


def prob(f: Forecast, r: dict[str, Any]) -> list[Block]:
    """``{target, at, measured, probability}``: P(reach) at each size (``probability``: one number per size)."""
    d, kind = f.data, ("a new measurement" if r["measured"] else "the curve")
    ps = zip(r["at"], r["probability"] if len(r["at"]) > 1 else [r["probability"]], strict=True)
    out: list[Block] = [
        f"P({d.y_unit} {op(d.increasing)} {r['target']:g} at {size(at)} {d.x_unit}) = **{p:.2f}**  ({kind})"
        for at, p in ps
    ]
    return out + [caption(f)] + ([] if f.bounded else [f"{NO_ASYMPTOTE} of the family, not a finding."])


def need(f: Forecast, r: dict[str, Any]) -> list[Block]:
    """The data needed (``Forecast.need``, or ``units.costed_need`` with its budget) as a table."""
    d, p, (lo, hi), now = f.data, r["prob"], r["interval"], r["n_current"]
    x = d.x_unit
    rows = [
        [f"{x} for P(reach) = {p:g}", n(r["n_needed"])],
        [f"more than the {size(now)} measured", n(max(r["n_needed"] - now, 0))],
    ]
    rows += [[f"median {x} at which it is reached", n(r["n_median"])]]
    rows += [
        [f"{r['interval_level']:.0%} interval of those {x}", f"{n(lo)} - {n(hi)}"],
        ["P(never reached)", f"{r['p_never']:.2f}"],
    ]
    rows += [[f"P(already reached at {size(now)} {x})", f"{r['p_reached_now']:.2f}"]]
    if "cost_at_prob" in r:
        rows += [
            [f"cost of the {x} beyond the data (at {r['cost_per_sample']:g} each)", n(r["cost_at_prob"], ",.2f", "n/a")]
        ]
        if r.get("fixed_cost"):
            rows += [
                [f"budget for P = {p:g} (+ {r['fixed_cost']:,.2f} per run)", n(r["budget_at_prob"], ",.2f", "n/a")]
            ]
        median = n(r["median_cost_if_reached"], ",.2f", "n/a")
        reach = 1 - r["p_never"]  # the share of the draws this median is taken over
        rows += [[f"median cost of the extra {x} (over the {pct(reach)} of draws that reach it)", median]]
    title = f"Data needed for {d.y_unit} {op(d.increasing)} {r['target']:g} ({d.name})"
    notes = [] if f.bounded else ["this family has no asymptote, so P(never) = 0 by assumption, not by evidence."]
    notes += [r["note"]] if "note" in r else []
    return [Table(title, ["quantity", "value"], rows, caption(f)), *(f"Note: {v}" for v in notes)]


def predict(f: Forecast, r: dict[str, Any]) -> list[Block]:
    """``{interval, predictions}``: ``Forecast.predict``'s rows (``to_dict("records")``) at that interval."""
    level, bands = f"{r['interval']:.0%}", [("lower", "upper"), ("measured_lower", "measured_upper")]
    rows = [
        [f"{size(p['n'])}", f"{p['median']:.4f}", *(f"{p[a]:.4f} - {p[b]:.4f}" for a, b in bands)]
        for p in r["predictions"]
    ]
    cols = [f.data.x_unit, f"median {f.data.y_unit}", f"{level} curve", f"{level} measured"]
    return [Table(f"Forecast for {f.data.name}", cols, rows, caption(f), text_columns=0)]


def gain(f: Forecast, g: dict[str, Any]) -> list[Block]:
    """What the next data buy: ``units.costed_gain``'s answer (with or without costs)."""
    d, (lo, hi), level = f.data, g["interval"], f"{g['interval_level']:.0%}"
    rows = [[f"expected improvement ({d.y_unit})", f"{g['mean']:+.4f}"], ["median", f"{g['median']:+.4f}"]]
    rows += [[f"{level} interval", f"{lo:+.4f} to {hi:+.4f}"], [f"{d.y_unit} {g['rate_label']}", f"{g['rate']:+.5g}"]]
    if "cost" in g:
        c_lo, c_hi = (n(c, ",.2f", "unbounded") for c in g["cost_per_metric_interval"])
        rows += [[f"cost of the {amount(g['step'], d.x_unit)}", f"{g['cost']:,.2f}"]]
        rows += [[f"cost {g['metric_step_label']} gained (median)", n(g["cost_per_metric_step"], ",.2f", "unbounded")]]
        rows += [
            [f"{level} interval of that cost", f"{c_lo} - {c_hi}"],
            ["P(the step gains nothing)", f"{g['p_no_gain']:.2f}"],
        ]
    title = f"Gain from {size(g['from_n'])} to {size(g['to_n'])} {d.x_unit} ({d.name})"
    return [Table(title, ["quantity", "value"], rows, caption(f))]


def families(fams: list[dict[str, Any]]) -> list[Block]:
    reach = {True: "yes", False: "NO (P(reach) -> 1)"}
    rows = [[d["name"], d["formula"], reach[d["bounded"]], ", ".join(d["params"])] for d in fams]
    return [Table("Curve families", ["family", "formula", "asymptote", "parameters"], rows, text_columns=4)]


def demo(f: Forecast, r: dict[str, Any]) -> list[Block]:
    sizes, (lo, hi) = ", ".join(f"{size(v)}" for v in f.data.n), r["gain"]["interval"]
    return [
        f"**{f.data.name}**: SSD ResNet-101 on COCO, mAP measured at {sizes} images",
        f"1. P(mAP >= 0.5 at 100,000 images) = **{r['prob']:.2f}**",
        f"2. Images for mAP 0.5 with 80 % probability: **{n(r['need']['n_needed'])}** "
        f"(P(never reached) = {r['need']['p_never']:.2f})",
        f"3. The next 10,000 images buy {r['gain']['mean']:+.4f} mAP (90 %: {lo:+.4f} to {hi:+.4f})",
        f"Held-out truth: mAP {r['truth']:.3f} at 118,287 images; forecast median {r['median']:.3f}",
        caption(f),
    ]


def backtest(res: dict[str, Any], title: str) -> list[Block]:
    from curvecast.peers import PEERS

    s = res["summary"]
    stats = [("mae_final", "median"), ("mae_final", "mean"), ("mae_heldout", "mean"), ("rmse_heldout", "median")]
    rows = [[f"{k} ({st})", *(f"{s[f'{b}{k}_{st}']:.4f}" for b in ("", *(f"{p}_" for p in PEERS)))] for k, st in stats]
    rows += [[f"coverage {lv}", f"{s[f'coverage_{lv}']:.3f}"] for lv in (50, 80, 90)]
    rows += [["90 % width (mean)", f"{s['width_90_mean']:.4f}"], ["CRPS (mean)", f"{s['crps_mean']:.4f}"]]
    rows += [["log pred. density (mean)", f"{s['lpd_mean']:.3f}"], ["fits with divergences", str(s["divergent_fits"])]]
    rows += [["fits refit after divergences", str(s["retried_fits"])]]
    cap = f"{res['n_curves']} curves, {res['n_skipped']} skipped (< 3 distinct n to fit on), "
    cap += f"{res['n_failed']} failed, {s['seconds']:.0f} s" + (" - INTERRUPTED" if res["interrupted"] else "")
    return [Table(title, ["quantity", "curvecast", *PEERS], rows, cap)]


def batch(s: dict[str, Any]) -> list[Block]:
    speed = f"{s['seconds']:.1f} s, {s['curves_per_minute']:.1f} curves/min"
    first = f", first answer after {s['first_answer_seconds']:.1f} s" if s["first_answer_seconds"] is not None else ""
    left = f", {s['remaining']} not done" if s["remaining"] else ""
    again = f" ({s['retried']} tried again)" if s["retried"] else ""
    out: list[Block] = [
        f"wrote {s['output']}: {s['curves']} curves, {s['answered']} answered, {s['failed']} failed{again}, "
        f"{s['skipped']} skipped (already there){left}; {speed}{first} on {s['engine']}"
    ]
    if s["with_problems"]:
        out.append(f"**{s['with_problems']}** answered curve(s) failed their diagnostics or model checks: see "
                   "their problems column before trusting their answers")  # fmt: skip
    return out


def prior_sets(r: dict[str, Any]) -> list[Block]:
    """``priors compare``: prior and posterior band at ``at`` (and P(target), n needed) per prior set, and
    whether its posterior's diagnostics passed (what failed is said on stderr)."""
    at, target, prob, x = r["at"], r["target"], r["prob"], r["x_unit"]
    cols = ["priors", "diagnostics", f"prior 90 % at {size(at)} {x}", "posterior median", "posterior 90 %"]
    cols += [] if target is None else ["P(target) prior", "P(target) posterior", f"{x} for P={prob:g}"]
    out = []
    for row in r["rows"]:
        prior, post = (f"{row[f'{k}_lower']:.3f} - {row[f'{k}_upper']:.3f}" for k in ("prior", "post"))
        ok = "ok" if row["diagnostics"]["ok"] else "failed"
        out.append([Path(row["priors"]).name, ok, prior, f"{row['post_median']:.3f}", post])
        out[-1] += (
            [] if target is None else [f"{row['p_target_prior']:.2f}", f"{row['p_target']:.2f}", n(row["n_needed"])]
        )
    return [Table(f"Prior sets compared on {r['curve']} ({r['family']})", cols, out, text_columns=2)]


def next_run(f: Forecast, r: dict[str, Any]) -> list[Block]:
    """The question, the answer today, one row per candidate run, and the recommendation."""
    d, now, reach_at = f.data, r["now"], r["kind"] == "reach_at"
    if reach_at:
        wrong = min(now["p"], 1 - now["p"])
        today = f"{r['question']} = {now['p']:.2f} today: a yes/no call now is wrong with probability {wrong:.2f}"
    else:
        lo, hi, at_p = (f"beyond {size(r['cap'])}" if now[k] >= r["cap"] else f"{size(now[k])}"
                        for k in ("lower", "upper", "n_needed"))  # fmt: skip
        today = (f"{r['question']}: {r['confidence']:.0%} interval {lo} - {hi} {d.x_unit} "
                 f"({now['uncertainty']:.1f} doublings); with P = {r['prob']:g}: {at_p}; "
                 f"P(never) = {now['p_never']:.2f}")  # fmt: skip
    cols = [d.x_unit, "added"] + (["cost"] if r["costs"] else [])
    cols += [f"{r['uncertainty_unit']} after", "reduction", "P(settles)"] + (["yes/no"] if reach_at else [])
    cols += [] if all(c["reliable"] for c in r["candidates"]) else ["note"]
    rows = []
    for c in r["candidates"]:
        row = [f"{size(c['n'])}", f"{size(c['extra'])}"] + ([f"{c['cost']:,.2f}"] if r["costs"] else [])
        row += [f"{c['uncertainty_after']:.3g}", f"{c['expected_reduction']:.3g}", f"{c['p_settles']:.2f}"]
        row += [f"{c['p_settles_yes']:.2f}/{c['p_settles_no']:.2f}"] if reach_at else []
        rows.append(row + ([] if c["reliable"] else [f"{c['ess_median']:.0f} effective draws"]))
    how = "fitted again" if r["method"] == "refit" else "reweighted draws"
    cap = f"{r['outcomes']} simulated results per size, {how}; decided at confidence {r['confidence']:g} · {caption(f)}"
    failed = sum(c["refits_with_problems"] or 0 for c in r["candidates"])
    cap += f" · {failed} refits failed their diagnostics (more --draws may help)" if failed else ""
    title = f"Which run next? ({d.name}, now {size(d.n_ref)} {d.x_unit})"
    return [today, Table(title, cols, rows, cap, text_columns=0), f"**{r['recommendation']['message']}**"]


def comparison(r: dict[str, Any], caption_a: str, caption_b: str) -> list[Block]:
    """``compare``: P(A better) and the difference at each size, then the crossing and the target in sentences."""
    from curvecast.comparison import summary_lines

    rows = []
    for v in r["at"]:
        lo, hi = v["diff_interval"]
        rows.append(
            [f"{size(v['n'])}", f"{v['p_a_better']:.2f}", f"{v['diff_median']:+.4f}", f"{lo:+.4f} to {hi:+.4f}"]
        )
    title = f"A = {r['a']} vs B = {r['b']} ({r['y_unit']}; difference A - B, positive: A better)"
    cols = [r["x_unit"], "P(A better)", "difference (median)", f"{r['interval_level']:.0%} interval"]
    cap = f"A: {caption_a} · B: {caption_b} · {r['pairs']} pairs of draws"
    return [Table(title, cols, rows, cap, text_columns=0), *summary_lines(r)]
