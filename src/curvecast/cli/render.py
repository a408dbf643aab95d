"""All CLI output: rich tables, one JSON object with ``--json``, warnings and errors on stderr."""

from __future__ import annotations

import functools
import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from curvecast.errors import CurvecastError, DiagnosticsWarning

if TYPE_CHECKING:
    from curvecast.diagnostics import Diagnostics
    from curvecast.results import Forecast, PooledFit

EXIT_BAD_INPUT, EXIT_DIAGNOSTICS, EXIT_INTERRUPTED = 2, 3, 130
ERROR, WARNING = "[bold red]Error:[/]", "[bold yellow]Warning:[/]"


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def error(msg: str, label: str = ERROR) -> None:
    from rich.markup import escape

    _console(stderr=True).print(f"{label} {escape(msg)}", soft_wrap=True)


def guarded(cmd: Callable[..., Any]) -> Callable[..., Any]:
    """The boundary: a CurvecastError exits 2 with its message, Ctrl-C exits 130; never a traceback."""

    @functools.wraps(cmd)
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DiagnosticsWarning)  # reported by check_diagnostics
                warnings.filterwarnings("ignore", category=FutureWarning)
                warnings.filterwarnings("ignore", message=".*BLAS.*")
                return cmd(*args, **kwargs)
        except CurvecastError as e:
            error(str(e))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            error("interrupted; no output file was written or changed")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return command


def interrupted(stopped: bool, kept: int, output: Path | None) -> None:
    """After Ctrl-C in a run over many curves: say what was kept, and exit 130."""
    if stopped:
        where = f" in {output} (run_status = interrupted)" if output is not None and kept else ""
        error(f"interrupted: {kept} finished curve(s) kept{where}", WARNING)
        raise typer.Exit(EXIT_INTERRUPTED)


def check_diagnostics(d: Diagnostics, strict: bool, as_json: bool, what: str = "") -> None:
    """Warn when the diagnostics failed (with --json they are in the JSON); --strict exits 3.
    ``what`` names the fit when there are several ("A (name): ")."""
    if d.problems and not as_json:
        why = "; ".join(d.problems)
        hint = "check the named points" if d.checks else "more --draws may help"
        error(f"{what}diagnostics failed: {why}. Treat the answers with caution ({hint}).", WARNING)
    if d.problems and strict:
        raise typer.Exit(EXIT_DIAGNOSTICS)


def _plain(v: Any) -> Any:
    """JSON-ready: NumPy values as Python ones; a non-finite number is ``null`` (README: "null means infinite")."""
    v = v.tolist() if type(v).__module__ == "numpy" else v
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return {str(k): _plain(x) for k, x in v.items()} if isinstance(v, dict) else v


def emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(_plain(obj), allow_nan=False) + "\n")


def answer(f: Forecast, r: dict[str, Any], human: Callable[..., None], as_json: bool, strict: bool) -> None:
    """A command's answer ``r``: as JSON, with what was fitted, or as ``human(f, r)``; then the diagnostics."""
    emit_json(fitted(f) | r) if as_json else human(f, r)
    check_diagnostics(f.diagnostics, strict, as_json)


def fitted(f: Forecast) -> dict[str, Any]:
    """What was fitted, for JSON: the curve, its units, the model and its diagnostics."""
    d = f.data
    info = {"curve": d.name, "family": f.label, "n_points": int(d.n.size), "n_max_observed": d.n_ref}
    info |= {"x_unit": d.x_unit, "y_unit": d.y_unit, "increasing": d.increasing, "notes": list(d.notes)}
    return info | {"weights": f.weights_table(), "diagnostics": f.diagnostics.to_dict()}


@contextmanager
def progress(enabled: bool, text: str, bar: bool = False) -> Iterator[Callable[[int, int], None] | None]:
    """On a terminal, a spinner or (``bar``) a progress bar, whose ``update(done, total)`` it yields."""
    if not (enabled and sys.stderr.isatty()):
        yield None
    elif not bar:
        with _console(stderr=True).status(text):
            yield None
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(text, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=_console(True)) as p:
            task = p.add_task(text, total=None)
            yield lambda done, total: p.update(task, completed=done, total=total)


# -- tables ---------------------------------------------------------------------
def table(title: str, columns: list[str], rows: list[list[str]], caption: str | None = None) -> None:
    """Text columns left-aligned, numbers right-aligned; a short row ends in "-" cells."""
    from rich.markup import escape
    from rich.table import Column, Table

    left = ("quantity", "family", "priors", "curve")
    cols = (Column(escape(c), justify="left" if c in left else "right") for c in columns)
    t = Table(*cols, title=escape(title), caption=escape(caption) if caption else None)
    for row in rows:  # user strings (curve names, paths) are never markup
        t.add_row(*map(escape, row), *["-"] * (len(columns) - len(row)))
    _console().print(t)


def quantiles(title: str, summary: dict[str, dict[str, float]], caption: str | None = None) -> None:
    rows = [[k, *(f"{v[q]:.4g}" for q in ("median", "q5", "q95"))] for k, v in summary.items()]
    table(title, ["quantity", "median", "5 %", "95 %"], rows, caption)


def caption(f: Forecast | PooledFit) -> str:
    d = f.diagnostics
    text = f"{f.label} · divergences {d.divergences} · r-hat max {d.rhat_max:.3f} · bulk ESS min {d.ess_bulk_min:.0f}"
    if d.retried:
        accept, first = f.settings["target_accept"], d.retried["divergences"]
        text += f" · refit at target_accept {accept:g} after {first} divergences"
    return text


def _n(v: float, fmt: str = ",.0f", never: str = "never") -> str:
    return f"{v:{fmt}}" if math.isfinite(v) else never


def _op(f: Forecast) -> str:
    return ">=" if f.data.increasing else "<="


# -- the human output of each command ------------------------------------------
def fit(f: Forecast, r: dict[str, Any]) -> None:
    d = f.data
    quantiles(f"Fit of {d.name} ({d.y_unit} against {d.x_unit}) -> {r['output']}", r["summary"], caption(f))


def pooled(pf: PooledFit, r: dict[str, Any]) -> None:
    quantiles("Pooled hyper-posterior (log scale for rates, logit for room)", r["hyper"])
    ps = list(pf.family.params)
    rows = [[k, *(f"{c['summary'][p]['median']:.4g}" for p in ps), c["output"]] for k, c in r["curves"].items()]
    table(f"Per-curve posterior medians ({pf.family.name})", ["curve", *ps, "file"], rows, caption(pf))


def prob(f: Forecast, r: dict[str, Any]) -> None:
    d, kind = f.data, ("a new measurement" if r["measured"] else "the curve")
    ps = zip(r["at"], r["probability"] if len(r["at"]) > 1 else [r["probability"]], strict=True)
    lines = [
        f"P({d.y_unit} {_op(f)} {r['target']:g} at {n:,.0f} {d.x_unit}) = [bold]{p:.2f}[/]  ({kind})" for n, p in ps
    ]
    lines.append(f"[dim]{caption(f)}[/]")
    if not f.bounded:
        note = "this family has no asymptote: P(reach) -> 1 for every target as n grows; that is an assumption"
        lines.append(f"[yellow]Note:[/] {note} of the family, not a finding.")
    _console().print("\n".join(lines))


def need(f: Forecast, r: dict[str, Any]) -> None:
    p, (lo, hi), x = r["prob"], r["interval"], f.data.x_unit
    rows = [[f"{x} for P(reach) = {p:g}", _n(r["n_needed"])], [f"median {x} at which it is reached", _n(r["n_median"])]]
    rows += [[f"{r['interval_level']:.0%} interval of those {x}", f"{_n(lo)} - {_n(hi)}"]]
    rows += [["P(never reached)", f"{r['p_never']:.2f}"]]
    rows += [[f"P(already reached at {r['n_current']:,.0f} {x})", f"{r['p_reached_now']:.2f}"]]
    if "cost_per_sample" in r:
        rows += [[f"{x} beyond the current data for P = {p:g}", _n(r["extra_samples"])]]
        rows += [[f"cost of those {x} (at {r['cost_per_sample']:g} each)", _n(r["cost_at_prob"], ",.2f", "n/a")]]
        if r.get("fixed_cost"):
            budget = _n(r["budget_at_prob"], ",.2f", "n/a")
            rows += [[f"budget for P = {p:g} (+ {r['fixed_cost']:,.2f} per run)", budget]]
        expected = _n(r["expected_cost_if_reached"], ",.2f", "n/a")
        rows += [[f"expected cost of the extra {x} (if ever reached)", expected]]
    title = f"Data needed for {f.data.y_unit} {_op(f)} {r['target']:g} ({f.data.name})"
    table(title, ["quantity", "value"], rows, caption(f))
    if not f.bounded:
        typer.echo("Note: this family has no asymptote, so P(never) = 0 by assumption, not by evidence.")


def predict(f: Forecast, r: dict[str, Any]) -> None:
    level, bands = f"{r['interval']:.0%}", [("lower", "upper"), ("measured_lower", "measured_upper")]
    rows = [
        [f"{p['n']:,.0f}", f"{p['median']:.4f}", *(f"{p[a]:.4f} - {p[b]:.4f}" for a, b in bands)]
        for p in r["predictions"]
    ]
    cols = [f.data.x_unit, f"median {f.data.y_unit}", f"{level} curve", f"{level} measured"]
    table(f"Forecast for {f.data.name}", cols, rows, caption(f))


def gain(f: Forecast, g: dict[str, Any]) -> None:
    d, (lo, hi) = f.data, g["interval"]
    title = f"Gain from {g['from_n']:,.0f} to {g['to_n']:,.0f} {d.x_unit} ({d.name})"
    rows = [[f"expected improvement ({d.y_unit})", f"{g['mean']:+.4f}"], ["median", f"{g['median']:+.4f}"]]
    rows += [
        [f"{g['interval_level']:.0%} interval", f"{lo:+.4f} to {hi:+.4f}"],
        [f"{d.y_unit} {g['rate_label']}", f"{g['rate']:+.5g}"],
    ]
    if "cost" in g:
        c_lo, c_hi = g["cost_per_metric_interval"]
        rows += [[f"cost of the {g['step']:,.0f} {d.x_unit}", f"{g['cost']:,.2f}"]]
        rows += [[f"cost {g['metric_step_label']} gained (median)", _n(g["cost_per_metric_step"], ",.2f", "unbounded")]]
        c_band = f"{_n(c_lo, ',.2f', 'unbounded')} - {_n(c_hi, ',.2f', 'unbounded')}"
        rows += [[f"{g['interval_level']:.0%} interval of that cost", c_band]]
        rows += [["P(the step gains nothing)", f"{g['p_no_gain']:.2f}"]]
    table(title, ["quantity", "value"], rows, caption(f))


def families(fams: list[dict[str, Any]]) -> None:
    reach = {True: "yes", False: "NO (P(reach) -> 1)"}
    rows = [[d["name"], d["formula"], reach[d["bounded"]], ", ".join(d["params"])] for d in fams]
    table("Curve families", ["family", "formula", "asymptote", "parameters"], rows)


def demo(f: Forecast, r: dict[str, Any]) -> None:
    sizes, (lo, hi) = ", ".join(f"{v:,.0f}" for v in f.data.n), r["gain"]["interval"]
    _console().print(
        f"[bold]{f.data.name}[/]: SSD ResNet-101 on COCO, mAP measured at {sizes} images\n"
        f"1. P(mAP >= 0.5 at 100,000 images) = [bold]{r['prob']:.2f}[/]\n"
        f"2. Images for mAP 0.5 with 80 % probability: [bold]{_n(r['need']['n_needed'])}[/] "
        f"(P(never reached) = {r['need']['p_never']:.2f})\n"
        f"3. The next 10,000 images buy {r['gain']['mean']:+.4f} mAP (90 %: {lo:+.4f} to {hi:+.4f})\n"
        f"[dim]Held-out truth: mAP {r['truth']:.3f} at 118,287 images; forecast median {r['median']:.3f}[/]\n"
        f"[dim]{caption(f)}[/]"
    )


def backtest(res: dict[str, Any], title: str) -> None:
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
    table(title, ["quantity", "curvecast", *PEERS], rows, cap)


def compare(
    rows: list[dict[str, Any]], title: str, at: float, target: float | None, prob: float, x_unit: str = "samples"
) -> None:
    cols = ["priors", f"prior 90 % at {at:,.0f} {x_unit}", "posterior median", "posterior 90 %"]
    cols += [] if target is None else ["P(target) prior", "P(target) posterior", f"{x_unit} for P={prob:g}"]
    out = []
    for r in rows:
        prior, post = (f"{r[f'{k}_lower']:.3f} - {r[f'{k}_upper']:.3f}" for k in ("prior", "post"))
        out.append([Path(r["priors"]).name, prior, f"{r['post_median']:.3f}", post])
        out[-1] += [] if target is None else [f"{r['p_target_prior']:.2f}", f"{r['p_target']:.2f}", _n(r["n_needed"])]
    table(title, cols, out)


# -- decisions (issue 13) ---------------------------------------------------------------
def next_run(f: Forecast, r: dict[str, Any]) -> None:
    """The question, the answer today, one row per candidate run, and the recommendation."""
    d, now, reach_at = f.data, r["now"], r["kind"] == "reach_at"
    if reach_at:
        wrong = min(now["p"], 1 - now["p"])
        today = f"{r['question']} = {now['p']:.2f} today: a yes/no call now is wrong with probability {wrong:.2f}"
    else:
        lo, hi, at_p = (_beyond(now[k], r["cap"]) for k in ("lower", "upper", "n_needed"))
        today = (f"{r['question']}: {r['confidence']:.0%} interval {lo} - {hi} {d.x_unit} "
                 f"({now['uncertainty']:.1f} doublings); with P = {r['prob']:g}: {at_p}; "
                 f"P(never) = {now['p_never']:.2f}")  # fmt: skip
    _console().print(escape_markup(today))
    cols = [d.x_unit, "added"] + (["cost"] if r["costs"] else [])
    cols += [f"{r['uncertainty_unit']} after", "reduction", "P(settles)"]
    cols += ["yes/no"] if reach_at else []
    cols += [] if all(c["reliable"] for c in r["candidates"]) else ["note"]
    rows = []
    for c in r["candidates"]:
        row = [f"{c['n']:,.0f}", f"{c['extra']:,.0f}"] + ([f"{c['cost']:,.2f}"] if r["costs"] else [])
        row += [f"{c['uncertainty_after']:.3g}", f"{c['expected_reduction']:.3g}", f"{c['p_settles']:.2f}"]
        row += [f"{c['p_settles_yes']:.2f}/{c['p_settles_no']:.2f}"] if reach_at else []
        rows.append(row + ([] if c["reliable"] else [f"{c['ess_median']:.0f} effective draws"]))
    how = "fitted again" if r["method"] == "refit" else "reweighted draws"
    cap = f"{r['outcomes']} simulated results per size, {how}; decided at confidence {r['confidence']:g} · {caption(f)}"
    failed = sum(c["refits_with_problems"] or 0 for c in r["candidates"])
    cap += f" · {failed} refits failed their diagnostics (more --draws may help)" if failed else ""
    table(f"Which run next? ({d.name}, now {d.n_ref:,.0f} {d.x_unit})", cols, rows, cap)
    rec = r["recommendation"]
    _console().print(f"[bold]{escape_markup(rec['message'])}[/]")


def _beyond(v: float, cap: float) -> str:
    return f"beyond {cap:,.0f}" if v >= cap else f"{v:,.0f}"


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return str(escape(text))


def compare_curves(r: dict[str, Any], caption_a: str, caption_b: str) -> None:
    """P(A better) and the difference at each size, then the crossing and the target in sentences."""
    from curvecast.comparison import summary_lines

    x, y, level = r["x_unit"], r["y_unit"], f"{r['interval_level']:.0%}"
    rows = []
    for v in r["at"]:
        lo, hi = v["diff_interval"]
        rows.append([f"{v['n']:,.0f}", f"{v['p_a_better']:.2f}", f"{v['diff_median']:+.4f}", f"{lo:+.4f} to {hi:+.4f}"])
    title = f"A = {r['a']} vs B = {r['b']} ({y}; difference A - B, positive: A better)"
    cols = [x, "P(A better)", "difference (median)", f"{level} interval"]
    table(title, cols, rows, f"A: {caption_a} · B: {caption_b} · {r['pairs']} pairs of draws")
    _console().print("\n".join(escape_markup(line) for line in summary_lines(r)))
