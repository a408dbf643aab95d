"""The one-file HTML report of a forecast: plain, printable, self-contained.

:func:`write_report` writes it. Everything is inline: the CSS, and the plots as SVG drawn by matplotlib with
their text as paths (no fonts to load). The page has no scripts and loads
nothing, so it opens the same offline, in a mail attachment or on a file share.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from curvecast import tables
from curvecast.answers import Question, answers, metric_name, num, sentences
from curvecast.diagnostics import ESS_MIN, RHAT_MAX
from curvecast.formats import pct, size
from curvecast.outputs import atomic_write, check_output
from curvecast.plotting import plot_fan, plot_reach
from curvecast.results import Forecast

CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1f2328;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 880px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1em; margin: 18px 0 6px; }
p.meta, figcaption, .note { color: #59636e; font-size: 0.88em; }
p.question { font-size: 1.08em; background: #f6f8fa; border-left: 4px solid #0969da; padding: 8px 12px; }
ul.answers { padding-left: 1.2em; } ul.answers li { margin: 6px 0; }
figure { margin: 16px 0; break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.92em; }
th, td { padding: 4px 10px; border-bottom: 1px solid #d8dee4; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.9em; }
.bad { color: #b42318; font-weight: 600; } .good { color: #1a7f37; }
footer { margin-top: 40px; color: #59636e; font-size: 0.8em; }
@media print {
  body { font-size: 11pt; } main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } table, figure, section#answers { break-inside: avoid; }
}
@page { margin: 16mm; }
"""


def esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def money(v: float) -> str:
    """A cost: cents below 100, whole units above."""
    return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"


def md(text: str) -> str:
    """A sentence with ``**bold**`` as escaped HTML."""
    return tables.BOLD.sub(r"<strong>\1</strong>", esc(text))


def table(header: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    """An HTML table; columns whose index is in ``numeric`` are right-aligned."""
    numeric = numeric or set()

    def cell(tag: str, i: int, v: Any) -> str:
        return f'<{tag} class="num">{esc(v)}</{tag}>' if i in numeric else f"<{tag}>{esc(v)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def svg(draw: Callable[[Any], Any], size: tuple[float, float], label: str, salt: str) -> str:
    """An inline ``<svg>`` of what ``draw(ax)`` plots (text as paths, ids unique per ``salt``)."""
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    draw(fig.subplots())
    fig.tight_layout()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg") :], flags=re.DOTALL)  # RDF, no drawing
    return text.replace("<svg ", f'<svg role="img" aria-label="{esc(label)}" class="plot" id="{esc(salt)}" ', 1)


def render(fit: Forecast, q: Question, a: dict[str, Any], *, source: str | None, metric: str | None) -> str:
    """The whole page."""
    from curvecast import __version__

    d = fit.data
    name = metric or metric_name(a)
    title = f"How much more data? {d.name}"
    sections = [
        _answers(fit, q, a, name, source),
        _plots(fit, q, a, name),
        _next(a, name),
        _data(fit, a, source, name),
        _model(fit),
        _diagnostics(fit),
    ]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="curvecast {esc(__version__)}">\n'
        f'<link rel="icon" href="data:,">\n<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n'
        f"<header><h1>{esc(title)}</h1>\n"
        f'<p class="meta">A Bayesian learning-curve forecast by curvecast {esc(__version__)} · '
        f"model {esc(fit.label)} · {esc(stamp)}</p></header>\n"
        + "\n".join(sections)
        + f"\n<footer>Made with curvecast {esc(__version__)}. This page is self-contained: it loads nothing "
        "from the network and can be printed or mailed as it is.</footer>\n</main>\n</body>\n</html>\n"
    )


def _question(a: dict[str, Any], name: str) -> str:
    op = "≥" if a["increasing"] else "≤"
    if a["target"] is None:
        sizes = " and ".join(size(r["n"]) for r in a["at"])
        return f"What will {name} be at {sizes} {a['x_unit']}, and what does more data buy?"
    t = num(a["target"])
    return (
        f"How many {a['x_unit']} does {name} {op} {t} take, with {a['prob']:.0%} probability? "
        f"And how likely is {name} {op} {t} at {' and '.join(size(r['n']) for r in a['at'])} {a['x_unit']}?"
    )


def _answers(fit: Forecast, q: Question, a: dict[str, Any], name: str, source: str | None) -> str:
    d = fit.data
    items = "".join(f"<li>{md(s)}</li>" for s in sentences(a, name))
    data = f"{d.n.size} measurements at {size(d.n.min())} to {size(d.n_ref)} {a['x_unit']}"
    where = f" from <code>{esc(source)}</code>" if source else ""
    return (
        '<section id="answers">\n<h2>The question and the answers</h2>\n'
        f'<p class="question">{esc(_question(a, name))}</p>\n'
        f'<ul class="answers">{items}</ul>\n'
        + _need_table(fit, a)
        + f'<p class="note">Based on {esc(data)}{where}. Probabilities are posterior probabilities of the model '
        f"named below: they hold if the curve keeps following it.</p>\n</section>"
    )


def _need_table(fit: Forecast, a: dict[str, Any]) -> str:
    """The table of data needed, the one ``curvecast need`` prints."""
    if a["need"] is None:
        return ""
    t = next(b for b in tables.need(fit, a["need"]) if isinstance(b, tables.Table))
    return f"<h3>Data needed for {esc(num(a['target']))}</h3>" + table(t.columns, t.rows, {1})


def _plots(fit: Forecast, q: Question, a: dict[str, Any], name: str) -> str:
    t, prob = a["target"], a["prob"]
    fan = svg(lambda ax: plot_fan(fit, ax, target=t, max_n=q.max_n, prob=prob), (8.0, 4.4), "Fan chart", "fan")
    cap = (
        f"Fan chart: measured points, the median forecast of {esc(name)}, its 50 % and 90 % bands "
        "(darker: the curve; lightest: a new measurement, with evaluation noise)"
    )
    cap += f"; the dashed line is the target {esc(num(t))}." if t is not None else "."
    out = '<section id="forecast">\n<h2>Forecast</h2>\n'
    out += f'<figure id="fig-fan">{fan}<figcaption>{cap}</figcaption></figure>'
    if t is not None:
        reach = svg(lambda ax: plot_reach(fit, ax, t, max_n=q.max_n), (8.0, 3.4), "P(reach) plot", "reach")
        rcap = (
            f"P(reach {esc(num(t))}) against the number of {esc(a['x_unit'])}, for the curve and for a new measurement."
        )
        out += f'\n<figure id="fig-reach">{reach}<figcaption>{rcap}</figcaption></figure>'
    rows = [
        [size(r["n"]), num(r["median"]), f"{num(r['lower'], like=r['median'])} to {num(r['upper'], like=r['median'])}"]
        + ([pct(r["p_reach"])] if t is not None else [])
        for r in a["at"]
    ]
    header = [a["x_unit"], "median", f"{a['interval']:.0%} interval"] + (["P(reach target)"] if t is not None else [])
    return out + "\n<h3>At the sizes asked about</h3>\n" + table(header, rows, {0, 1, 2, 3}) + "\n</section>"


def _next(a: dict[str, Any], name: str) -> str:
    t, level = a["target"], f"{a['interval']:.0%}"
    header = [f"more {a['x_unit']}", "total", f"expected gain in {name}", f"{level} interval"]
    header += ["P(reach target) then"] if t is not None else []
    header += ["cost"] if a["next"] and "cost" in a["next"][0] else []
    rows = []
    for r in a["next"]:
        row = [size(r["step"]), size(r["to_n"]), num(r["mean"], sign=True)]
        row.append(f"{num(r['lower'], sign=True, like=r['mean'])} to {num(r['upper'], sign=True, like=r['mean'])}")
        row += [pct(r["p_reach"])] if "p_reach" in r else []
        row += [money(r["cost"])] if "cost" in r else []
        rows.append(row)
    return (
        '<section id="next">\n<h2>What the next data buy</h2>\n'
        f"<p>Improvement of {esc(name)} (in its good direction) from the {esc(size(a['n_current']))} "
        f"{esc(a['x_unit'])} measured, for several amounts of new data. Returns diminish: each new one buys "
        "less than the last.</p>\n" + table(header, rows, set(range(len(header)))) + "\n</section>"
    )


def _data(fit: Forecast, a: dict[str, Any], source: str | None, name: str) -> str:
    d = fit.data
    rows = [[size(n), num(y, 4)] for n, y in zip(d.n, d.y, strict=True)]
    reps = " Several measurements at one size are replicates, kept as such." if d.has_replicates else ""
    where = f"Source: <code>{esc(source)}</code>. " if source else ""
    return (
        f'<section id="data">\n<h2>Data</h2>\n<p>{where}Curve <code>{esc(d.name)}</code>: {d.n.size} measurements '
        f"of {esc(name)}.{reps}</p>\n" + table([f"{a['x_unit']} (n)", a["y_unit"]], rows, {0, 1}) + "\n</section>"
    )


def _bound(v: float | None, inferred: bool) -> str:
    if v is None:
        return "none"
    return f"{num(v)} (inferred from the data)" if inferred else num(v)


def _model(fit: Forecast) -> str:
    d = fit.data
    lo_inf, hi_inf = d.bounds_inferred
    direction = "higher is better" if d.increasing else "lower is better"
    parts = [
        '<section id="model">\n<h2>Model and assumptions</h2>',
        f"<p>Model <strong>{esc(fit.label)}</strong> fitted by NUTS. Metric: {direction}; bounds "
        f"[{esc(_bound(d.metric_min, lo_inf))}, {esc(_bound(d.metric_max, hi_inf))}].</p>",
    ]
    if fit.bounded:
        parts.append(
            "<p>Every family in the model has an asymptote: the curve levels off, and a target beyond it is "
            "never reached (P(never reached) measures that).</p>"
        )
    else:
        parts.append(
            '<p class="bad">The model has no asymptote: under it every target is eventually reached. '
            "That is an assumption of the model, not a finding.</p>"
        )
    comp_rows = [
        [c.family.name, c.family.formula, "yes" if c.family.bounded else "no", f"{w:.2f}"]
        for c, w in zip(fit.components, fit.weights, strict=True)
    ]
    parts.append(table(["family", "formula", "asymptote", "weight"], comp_rows, {3}))
    symbols: set[str] = set()
    for c in fit.components:
        rows = []
        for k, p in c.priors.items():
            rows.append([k, p.describe()])
            symbols |= {v for v in p.params.values() if isinstance(v, str)}
        parts.append(f"<h3>Priors of {esc(c.family.name)}</h3>" + table(["parameter", "prior"], rows))
    if symbols:
        values = d.symbols()
        rows = [[s, num(values[s], 4)] for s in sorted(symbols) if s in values]
        parts.append(
            '<p class="note">Prior parameters named by a data symbol take this curve\'s values:</p>'
            + table(["symbol", "value"], rows, {1})
        )
    settings = fit.settings
    disc = settings.get("discrepancy") or {}
    on = any(float(disc.get(k, 0) or 0) > 0 for k in ("kappa", "lam"))
    parts.append(
        "<p>Model discrepancy beyond the largest observed n: "
        + (
            "<strong>on</strong>: a heavy-tailed shift that widens the band with the distance from the data, "
            "since real curves follow no family exactly."
            if on
            else "<strong>off</strong>: the bands assume the curve follows the family exactly."
        )
        + "</p>"
    )
    keys = ("draws", "tune", "chains", "seed", "target_accept", "engine")
    srows = [[k, settings[k]] for k in keys if k in settings]
    parts.append("<h3>Sampler</h3>" + table(["setting", "value"], srows, {1}) + "\n</section>")
    return "\n".join(parts)


def _diagnostics(fit: Forecast) -> str:
    g = fit.diagnostics
    rows: list[list[Any]] = [
        ["divergent transitions", g.divergences, "0"],
        ["r-hat (max)", f"{g.rhat_max:.3f}", f"≤ {RHAT_MAX}"],
        ["bulk ESS (min)", f"{g.ess_bulk_min:.0f}", f"≥ {ESS_MIN}"],
        ["tail ESS (min)", f"{g.ess_tail_min:.0f}", f"≥ {ESS_MIN}"],
    ]
    if g.retried:
        rows.append(["refit after divergences", f"{g.retried.get('divergences', '?')} at first", "-"])
    verdict = (
        '<p class="good">All diagnostics passed.</p>'
        if g.ok
        else '<p class="bad">Diagnostics failed:</p><ul>' + "".join(f"<li>{esc(p)}</li>" for p in g.problems) + "</ul>"
    )
    checks = ""
    if g.checks:
        items = "".join(f"<li>{esc(c.get('kind', ''))}: {esc(c.get('message', ''))}</li>" for c in g.checks)
        checks = f"<h3>Model checks that failed</h3><ul>{items}</ul>"
    finite = all(math.isfinite(v) for v in (g.rhat_max, g.ess_bulk_min))
    note = "" if finite else '<p class="note">Some diagnostics are not available for this fit.</p>'
    return (
        '<section id="diagnostics">\n<h2>Diagnostics</h2>\n'
        + verdict
        + table(["diagnostic", "value", "healthy"], rows, {1, 2})
        + checks
        + note
        + "\n</section>"
    )


def write_report(
    fit: Forecast,
    path: str | Path,
    *,
    target: float | None = None,
    at: Any = None,
    prob: float = 0.8,
    step: float | None = None,
    cost_per_sample: float | None = None,
    max_n: float | None = None,
    source: str | None = None,
    metric: str | None = None,
) -> Path:
    """Write one self-contained HTML report of ``fit`` to ``path`` (atomically).

    The page holds the question and the answers in words, the fan chart and the
    P(reach) plot as inline SVG, what the next data buy, the data, the model with
    its assumptions and priors, and the diagnostics; it loads nothing from the
    network (no scripts, fonts or images outside the file). ``source`` describes
    where the data came from; ``metric`` names the metric in the sentences.
    """
    path = check_output(path, suffixes=(".html", ".htm"))
    at_sizes = () if at is None else tuple(float(v) for v in np.atleast_1d(np.asarray(at, float)))
    q = Question(target, at_sizes, prob, step, cost_per_sample, max_n).check(fit)
    html_text = render(fit, q, answers(fit, q), source=source, metric=metric)
    atomic_write(path, lambda tmp: Path(tmp).write_text(html_text, encoding="utf-8"))
    return path
