"""The ``curvecast`` command line: a thin Typer shell over the library.

Heavy modules are imported inside commands so that ``curvecast --help`` is fast.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from curvecast.errors import CurvecastError, DiagnosticsWarning

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Bayesian learning-curve forecasts: P(target at n), data needed, what more data buys.",
    pretty_exceptions_enable=False,
)

Source = Annotated[Path, typer.Argument(help="Data file (CSV, TSV, JSON lines) or a saved fit (.nc).")]
Curve = Annotated[str | None, typer.Option("--curve", help="Curve name when the file holds several.")]
Family = Annotated[str, typer.Option("--family", "-f", help="Curve family (see `curvecast families`) or 'auto'.")]
Priors = Annotated[Path | None, typer.Option("--priors", help="TOML prior file (see models/).")]
MetricMin = Annotated[float | None, typer.Option("--metric-min", help="Lower bound of the metric.")]
MetricMax = Annotated[float | None, typer.Option("--metric-max", help="Upper bound of the metric.")]
Decreasing = Annotated[bool, typer.Option("--decreasing", help="Lower is better (loss, error, MAE).")]
Draws = Annotated[int, typer.Option("--draws", help="Posterior draws per chain.")]
Chains = Annotated[int, typer.Option("--chains", help="NUTS chains.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed; same seed, same numbers.")]
XCol = Annotated[str | None, typer.Option("--x", help="Column holding n.")]
YCol = Annotated[str | None, typer.Option("--y", help="Column holding the metric.")]
Json = Annotated[bool, typer.Option("--json", help="Write one JSON object on stdout and nothing else.")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit with code 3 when diagnostics fail.")]

EXIT_BAD_INPUT = 2
EXIT_DIAGNOSTICS = 3


def _err(msg: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False).print(f"[bold red]Error:[/] {msg}", markup=True, soft_wrap=True)


@contextmanager
def _progress(enabled: bool, text: str) -> Any:
    if enabled and sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status(text):
            yield
    else:
        yield


@dataclass
class FitOptions:
    """The options every fitting command shares."""

    curve: str | None
    family: str
    priors: Path | None
    metric_min: float | None
    metric_max: float | None
    decreasing: bool
    draws: int
    chains: int
    seed: int
    x: str | None
    y: str | None


def _load_source(source: Path, o: FitOptions, quiet: bool) -> Any:
    """A saved fit, or a fit of the selected curve of a data file."""
    if source.suffix.lower() in (".nc", ".netcdf", ".h5"):
        from curvecast.persist import load_fit

        return load_fit(source)
    from curvecast.data import CurveData, load_curves, select_curve

    name, (n, y) = select_curve(load_curves(source, x=o.x, y=o.y), o.curve)
    data = CurveData(n, y, increasing=not o.decreasing, metric_min=o.metric_min, metric_max=o.metric_max, name=name)
    from curvecast.fitting import fit

    with _progress(not quiet, f"Sampling {o.family} for {name} ({o.chains} chains x {o.draws} draws)..."):
        return fit(
            data=data,
            family=o.family,
            priors=str(o.priors) if o.priors else None,
            draws=o.draws,
            chains=o.chains,
            seed=o.seed,
        )


def _diag_json(f: Any) -> dict[str, Any]:
    d = f.diagnostics
    keys = ("divergences", "rhat_max", "ess_bulk_min", "ess_tail_min", "ok", "problems")
    out = {k: d.get(k) for k in keys}
    if d.get("retried"):
        out["retried"] = d["retried"]
    return out


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, list):
        return [_finite(x) for x in v]
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    return v


def _emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(_finite(obj)) + "\n")


def _fit_info(f: Any) -> dict[str, Any]:
    info = {
        "curve": f.data.name,
        "family": f.label,
        "n_points": int(f.data.n.size),
        "n_max_observed": f.data.n_ref,
        "increasing": f.data.increasing,
        "diagnostics": _diag_json(f),
    }
    if hasattr(f, "weights_table"):
        info["weights"] = f.weights_table()
    return info


def _check_diag(f: Any, strict: bool, as_json: bool) -> None:
    d = f.diagnostics
    if d.get("problems"):
        if not as_json:
            from rich.console import Console

            Console(stderr=True).print(
                f"[bold yellow]Warning:[/] sampler diagnostics failed: {'; '.join(d['problems'])}. "
                "Treat the answers with caution (more --draws may help)."
            )
        if strict:
            raise typer.Exit(EXIT_DIAGNOSTICS)


def _table(title: str, columns: list[str], rows: list[list[str]], caption: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, caption=caption)
    for c in columns:
        t.add_column(c, justify="right" if c not in ("quantity", "family") else "left")
    for r in rows:
        t.add_row(*r)
    Console().print(t)


def _diag_caption(f: Any) -> str:
    d = f.diagnostics
    text = (
        f"{f.label} · divergences {d['divergences']} · r-hat max {d['rhat_max']:.3f} · "
        f"bulk ESS min {d['ess_bulk_min']:.0f}"
    )
    if d.get("retried"):
        r = d["retried"]
        text += f" · refit at target_accept {f.settings['target_accept']:g} after {r['divergences']} divergences"
    return text


def _fmt_n(v: float) -> str:
    return "never" if not math.isfinite(v) else f"{v:,.0f}"


def _fmt_cost(v: float) -> str:
    return "n/a (not reached)" if not math.isfinite(v) else f"{v:,.2f}"


def _run(body: Any) -> Any:
    """Run a command body, turning domain errors into exit code 2 with no traceback."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DiagnosticsWarning)  # reported by _check_diag
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            return body()
    except CurvecastError as e:
        _err(str(e))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        _err("interrupted; no output file was written")
        raise typer.Exit(130) from None


def _opts(
    curve: str | None,
    family: str,
    priors: Path | None,
    metric_min: float | None,
    metric_max: float | None,
    decreasing: bool,
    draws: int,
    chains: int,
    seed: int,
    x: str | None,
    y: str | None,
) -> FitOptions:
    return FitOptions(curve, family, priors, metric_min, metric_max, decreasing, draws, chains, seed, x, y)


def _fit_pool(
    data: Path,
    output: Path,
    family: str,
    metric_min: float | None,
    metric_max: float | None,
    decreasing: bool,
    draws: int,
    chains: int,
    seed: int,
    x: str | None,
    y: str | None,
    as_json: bool,
) -> None:
    """Joint fit of every curve in ``data``; writes OUTPUT-STEM.CURVE.nc per curve."""
    from curvecast.pooling import fit_pooled

    curves = _curves_for_bulk(data, decreasing, metric_min, metric_max, x, y, None)
    with _progress(not as_json, f"Sampling a pooled {family} model of {len(curves)} curves..."):
        pf = fit_pooled(curves, family=family, draws=draws, chains=chains, seed=seed)
    written = {}
    for name, f in pf.fits.items():
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        path = output.with_name(f"{output.stem}.{safe}.nc")
        f.save(str(path))
        written[name] = str(path)
    if as_json:
        _emit_json(
            {
                "family": family,
                "curves": {k: {"output": written[k], "summary": f.summary()} for k, f in pf.fits.items()},
                "hyper": pf.hyper_summary(),
                "diagnostics": _diag_json(pf),
            }
        )
        return
    rows = [[k, f"{v['median']:.4g}", f"{v['q5']:.4g}", f"{v['q95']:.4g}"] for k, v in pf.hyper_summary().items()]
    _table("Pooled hyper-posterior (log scale for rates, logit for room)", ["quantity", "median", "5 %", "95 %"], rows)
    crow = []
    for k, f in pf.fits.items():
        sm = f.summary()
        crow.append([k, *(f"{sm[p]['median']:.4g}" for p in f.family.params), written[k]])
    fam0 = next(iter(pf.fits.values())).family
    _table(
        f"Per-curve posterior medians ({family})",
        ["family", *fam0.params, "file"],
        crow,
        f"divergences {pf.diagnostics['divergences']} · r-hat max {pf.diagnostics['rhat_max']:.3f} · "
        f"bulk ESS min {pf.diagnostics['ess_bulk_min']:.0f}",
    )


# ---------------------------------------------------------------------------
@app.command()
def fit(
    data: Annotated[Path, typer.Argument(help="Data file (CSV, TSV or JSON lines).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the fit (.nc).")],
    curve: Curve = None,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    as_json: Json = False,
    strict: Strict = False,
    pool: Annotated[bool, typer.Option("--pool", help="Fit every curve jointly with partial pooling.")] = False,
) -> None:
    """Fit a curve and save the posterior to a netCDF file (--pool: every curve, one file each)."""

    def body() -> None:
        if output.suffix.lower() != ".nc":
            raise CurvecastError(f"output {str(output)!r} must end in .nc")
        if pool:
            _fit_pool(data, output, family, metric_min, metric_max, decreasing, draws, chains, seed, x, y, as_json)
            return
        o = _opts(curve, family, priors, metric_min, metric_max, decreasing, draws, chains, seed, x, y)
        f = _load_source(data, o, as_json)
        f.save(str(output))
        summ = f.summary()
        if as_json:
            _emit_json({**_fit_info(f), "output": str(output), "summary": summ})
        else:
            rows = [[k, f"{v['median']:.4g}", f"{v['q5']:.4g}", f"{v['q95']:.4g}"] for k, v in summ.items()]
            _table(f"Fit of {f.data.name} -> {output}", ["quantity", "median", "5 %", "95 %"], rows, _diag_caption(f))
        _check_diag(f, strict, as_json)

    _run(body)


@app.command()
def prob(
    source: Source,
    target: Annotated[float, typer.Option("--target", "-t", help="Metric value to reach.")],
    at: Annotated[list[float], typer.Option("--at", help="Training-set size(s) n.")],
    measured: Annotated[bool, typer.Option("--measured", help="Include evaluation noise (a new measurement).")] = False,
    curve: Curve = None,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """P(metric >= TARGET at N) (<= for decreasing metrics), for each --at N."""

    def body() -> None:
        o = _opts(curve, family, priors, metric_min, metric_max, decreasing, draws, chains, seed, x, y)
        f = _load_source(source, o, as_json)
        p = f.prob(target, at, measured=measured)
        op = ">=" if f.data.increasing else "<="
        if as_json:
            _emit_json(
                {
                    **_fit_info(f),
                    "target": target,
                    "at": list(at),
                    "measured": measured,
                    "probability": [float(v) for v in p] if len(at) > 1 else float(p[0]),
                    "bounded": f.bounded,
                }
            )
        else:
            from rich.console import Console

            con = Console()
            kind = "a new measurement" if measured else "the curve"
            for n_i, p_i in zip(at, p, strict=True):
                con.print(f"P(metric {op} {target:g} at {n_i:,.0f}) = [bold]{p_i:.2f}[/]  ({kind})")
            con.print(f"[dim]{_diag_caption(f)}[/]")
            if not f.bounded:
                con.print(
                    "[yellow]Note:[/] this family has no asymptote: P(reach) -> 1 for every target "
                    "as n grows; that is an assumption of the family, not a finding."
                )
        _check_diag(f, strict, as_json)

    _run(body)


@app.command()
def need(
    source: Source,
    target: Annotated[float, typer.Option("--target", "-t", help="Metric value to reach.")],
    prob_: Annotated[float, typer.Option("--prob", "-p", help="Required probability of reaching it.")] = 0.8,
    cost_per_sample: Annotated[float | None, typer.Option("--cost-per-sample", help="Cost of one more sample.")] = None,
    curve: Curve = None,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """How much data reaches TARGET with probability --prob, and the chance it is never reached."""

    def body() -> None:
        o = _opts(curve, family, priors, metric_min, metric_max, decreasing, draws, chains, seed, x, y)
        f = _load_source(source, o, as_json)
        r = f.need(target, prob=prob_, cost_per_sample=cost_per_sample)
        if as_json:
            _emit_json({**_fit_info(f), **r})
            _check_diag(f, strict, as_json)
            return
        lo, hi = r["interval"]
        rows = [
            [f"n for P(reach) = {prob_:g}", _fmt_n(r["n_needed"])],
            ["median n at which it is reached", _fmt_n(r["n_median"])],
            [f"{r['interval_level']:.0%} interval of that n", f"{_fmt_n(lo)} - {_fmt_n(hi)}"],
            ["P(never reached)", f"{r['p_never']:.2f}"],
            [f"P(already reached at {r['n_current']:,.0f})", f"{r['p_reached_now']:.2f}"],
        ]
        if cost_per_sample is not None:
            rows += [
                [f"samples beyond current data for P = {prob_:g}", _fmt_n(r["extra_samples"])],
                [f"cost for P = {prob_:g}", _fmt_cost(r["cost_at_prob"])],
                ["expected cost of the extra data (if ever reached)", _fmt_cost(r["expected_cost_if_reached"])],
            ]
        _table(f"Data needed for {target:g} ({f.data.name})", ["quantity", "value"], rows, _diag_caption(f))
        if not f.bounded:
            typer.echo("Note: this family has no asymptote, so P(never) = 0 by assumption, not by evidence.")
        _check_diag(f, strict, as_json)

    _run(body)


@app.command()
def predict(
    source: Source,
    at: Annotated[list[float], typer.Option("--at", help="Training-set size(s) n.")],
    interval: Annotated[float, typer.Option("--interval", help="Central interval mass.")] = 0.9,
    curve: Curve = None,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """Median and interval of the metric at each N, for the curve and for a new measurement."""

    def body() -> None:
        o = _opts(curve, family, priors, metric_min, metric_max, decreasing, draws, chains, seed, x, y)
        f = _load_source(source, o, as_json)
        df = f.predict(at, interval=interval)
        if as_json:
            _emit_json({**_fit_info(f), "interval": interval, "predictions": df.to_dict("records")})
        else:
            rows = [
                [
                    f"{r.n:,.0f}",
                    f"{r.median:.4f}",
                    f"{r.lower:.4f} - {r.upper:.4f}",
                    f"{r.measured_lower:.4f} - {r.measured_upper:.4f}",
                ]
                for r in df.itertuples()
            ]
            _table(
                f"Forecast for {f.data.name}",
                ["n", "median", f"{interval:.0%} curve", f"{interval:.0%} measured"],
                rows,
                _diag_caption(f),
            )
        _check_diag(f, strict, as_json)

    _run(body)


@app.command()
def gain(
    source: Source,
    step: Annotated[float, typer.Option("--step", help="Extra samples DN.")],
    from_n: Annotated[float | None, typer.Option("--from", help="Start n (default: largest observed).")] = None,
    curve: Curve = None,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """What the next DN samples buy: expected improvement and its band (diminishing returns)."""

    def body() -> None:
        o = _opts(curve, family, priors, metric_min, metric_max, decreasing, draws, chains, seed, x, y)
        f = _load_source(source, o, as_json)
        g = f.gain(step, from_n=from_n)
        if as_json:
            _emit_json({**_fit_info(f), **g})
        else:
            lo, hi = g["interval"]
            rows = [
                ["expected improvement", f"{g['mean']:+.4f}"],
                ["median", f"{g['median']:+.4f}"],
                [f"{g['interval_level']:.0%} interval", f"{lo:+.4f} to {hi:+.4f}"],
                ["per 1,000 samples", f"{g['per_1000']:+.5f}"],
            ]
            _table(
                f"Gain from {g['from_n']:,.0f} to {g['to_n']:,.0f} ({f.data.name})",
                ["quantity", "value"],
                rows,
                _diag_caption(f),
            )
        _check_diag(f, strict, as_json)

    _run(body)


@app.command()
def plot(
    source: Source,
    output: Annotated[Path, typer.Option("-o", "--output", help="Image file (.png or .svg).")],
    target: Annotated[float | None, typer.Option("--target", "-t", help="Target line and P(reach) panel.")] = None,
    max_n: Annotated[float | None, typer.Option("--max-n", help="Right end of the x axis.")] = None,
    curve: Curve = None,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    strict: Strict = False,
) -> None:
    """Fan chart of the forecast (and P(reach target) against n)."""

    def body() -> None:
        if output.suffix.lower() not in (".png", ".svg"):
            raise CurvecastError(f"output {str(output)!r} must end in .png or .svg")
        o = _opts(curve, family, priors, metric_min, metric_max, decreasing, draws, chains, seed, x, y)
        f = _load_source(source, o, False)
        from curvecast.plotting import plot_forecast

        plot_forecast(f, output, target=target, max_n=max_n)
        typer.echo(f"wrote {output}")
        _check_diag(f, strict, False)

    _run(body)


@app.command()
def families(as_json: Json = False) -> None:
    """List the registered curve families with their formulas."""
    from curvecast.families import REGISTRY

    rows = [
        [name, fam.formula, "yes" if fam.bounded else "NO (P(reach) -> 1)", ", ".join(fam.params)]
        for name, fam in REGISTRY.items()
    ]
    if as_json:
        _emit_json(
            {
                "families": [
                    {
                        "name": r[0],
                        "formula": r[1],
                        "bounded": REGISTRY[r[0]].bounded,
                        "params": list(REGISTRY[r[0]].params),
                    }
                    for r in rows
                ]
            }
        )
        return
    _table("Curve families", ["family", "formula", "asymptote", "parameters"], rows)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Plot file.")] = Path("curvecast-demo.png"),
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
) -> None:
    """The whole story on the bundled COCO curve: P(mAP >= 0.5 at 100k), images needed, next 10k."""

    def body() -> None:
        from rich.console import Console

        from curvecast.data import CurveData, bundled_seed_path, load_curves
        from curvecast.fitting import fit as fit_fn
        from curvecast.plotting import plot_forecast

        con = Console()
        name = "COCO_ssd_resnet101_v1_fpn"
        n, y = load_curves(bundled_seed_path())[name]
        keep = n <= 11829
        data = CurveData(n[keep], y[keep], name=name)
        con.print(
            f"[bold]{name}[/]: SSD ResNet-101 on COCO, mAP measured at "
            + ", ".join(f"{v:,.0f}" for v in data.n)
            + " images"
        )
        with _progress(True, "Sampling..."):
            f = fit_fn(data=data, draws=draws, chains=chains, seed=seed)
        p = f.prob(0.5, [100_000])[0]
        r = f.need(0.5, prob=0.8)
        g = f.gain(10_000)
        con.print(f"1. P(mAP >= 0.5 at 100,000 images) = [bold]{p:.2f}[/]")
        con.print(
            f"2. Images for mAP 0.5 with 80 % probability: [bold]{_fmt_n(r['n_needed'])}[/] "
            f"(P(never reached) = {r['p_never']:.2f})"
        )
        lo, hi = g["interval"]
        con.print(f"3. The next 10,000 images buy {g['mean']:+.4f} mAP (90 %: {lo:+.4f} to {hi:+.4f})")
        truth = dict(zip(n, y, strict=True))
        con.print(
            f"[dim]Held-out truth: mAP {truth[118287]:.3f} at 118,287 images; forecast median "
            f"{f.predict([118287])['median'][0]:.3f}[/]"
        )
        con.print(f"[dim]{_diag_caption(f)}[/]")
        plot_forecast(f, output, target=0.5, max_n=300_000)
        con.print(f"wrote {output}")
        _check_diag(f, False, False)

    _run(body)


def _curves_for_bulk(
    path: Path,
    decreasing: bool,
    metric_min: float | None,
    metric_max: float | None,
    x: str | None,
    y: str | None,
    limit: int | None,
) -> list[Any]:
    from curvecast.data import CurveData, load_curves

    items = list(load_curves(path, x=x, y=y).items())[: limit or None]
    out = []
    for name, (n, yv) in items:
        try:
            out.append(
                CurveData(n, yv, increasing=not decreasing, metric_min=metric_min, metric_max=metric_max, name=name)
            )
        except CurvecastError as e:
            raise CurvecastError(f"curve {name!r}: {e}") from None
    return out


@contextmanager
def _bar(enabled: bool, label: str) -> Any:
    """A rich progress bar on a terminal; yields a ``progress(done, total)`` callback."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
def backtest(
    curves: Annotated[Path, typer.Argument(help="Long CSV of curves (curve, n, metric[, seed]).")],
    cutoff: Annotated[float, typer.Option("--cutoff", help="Fit on n <= cutoff * max n.")] = 0.1,
    out: Annotated[Path | None, typer.Option("--out", help="Per-curve results (CSV).")] = None,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    jobs: Annotated[int | None, typer.Option("--jobs", help="Processes (default: all cores).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N curves.")] = None,
    pool_by: Annotated[
        str | None, typer.Option("--pool-by", help="Pool curves: 'all' or a regex whose group 1 is the group.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Fit the early part of every curve and score the forecasts of the rest."""

    def body() -> None:
        from curvecast.backtest import run_backtest

        data = _curves_for_bulk(curves, decreasing, metric_min, metric_max, x, y, limit)
        kw = {"family": family, "draws": draws, "chains": chains, "priors": str(priors) if priors else None}
        with _bar(not as_json, "backtest") as progress:
            res = run_backtest(data, cutoff, fit_kwargs=kw, seed=seed, jobs=jobs, progress=progress, pool_by=pool_by)
        if out is not None:
            import pandas as pd

            from curvecast.persist import atomic_write

            atomic_write(out, lambda tmp: pd.DataFrame(res["curves"]).to_csv(tmp, index=False))
        if as_json:
            _emit_json(res)
            return
        s = res["summary"]
        if not s:
            raise CurvecastError(f"no curve had 3 distinct n below the cutoff {cutoff}; raise --cutoff")
        rows = [
            [
                "mae_final (median)",
                f"{s['mae_final_median']:.4f}",
                f"{s['logreg_mae_final_median']:.4f}",
                f"{s['last_mae_final_median']:.4f}",
            ],
            [
                "mae_final (mean)",
                f"{s['mae_final_mean']:.4f}",
                f"{s['logreg_mae_final_mean']:.4f}",
                f"{s['last_mae_final_mean']:.4f}",
            ],
            [
                "mae_heldout (mean)",
                f"{s['mae_heldout_mean']:.4f}",
                f"{s['logreg_mae_heldout_mean']:.4f}",
                f"{s['last_mae_heldout_mean']:.4f}",
            ],
            *[[f"coverage {lv}", f"{s[f'coverage_{lv}']:.3f}", "-", "-"] for lv in (50, 80, 90)],
            ["CRPS (mean)", f"{s['crps_mean']:.4f}", "-", "-"],
            ["log pred. density (mean)", f"{s['lpd_mean']:.3f}", "-", "-"],
            ["fits with divergences", str(s["divergent_fits"]), "-", "-"],
            ["fits refit after divergences", str(s["retried_fits"]), "-", "-"],
        ]
        cap = (
            f"{res['n_curves']} curves, {res['n_skipped']} skipped (< 3 distinct n below the cutoff), "
            f"{res['n_failed']} failed, {s['seconds']:.0f} s" + (" - INTERRUPTED" if res["interrupted"] else "")
        )
        _table(
            f"Backtest of {curves.name} at cutoff {cutoff:g} ({family})",
            ["quantity", "curvecast", "log regression", "last value"],
            rows,
            cap,
        )

    _run(body)


@app.command()
def batch(
    curves: Annotated[Path, typer.Argument(help="Long CSV of curves (curve, n, metric[, seed]).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Answers, one row per curve (CSV).")],
    at: Annotated[list[float], typer.Option("--at", help="Sizes n for bands and P(reach).")],
    targets: Annotated[list[float] | None, typer.Option("--targets", "--target", help="Target metric values.")] = None,
    prob_: Annotated[float, typer.Option("--prob", help="Probability for n needed.")] = 0.8,
    family: Family = "pow3",
    priors: Priors = None,
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    jobs: Annotated[int | None, typer.Option("--jobs", help="Processes (default: all cores).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N curves.")] = None,
    as_json: Json = False,
) -> None:
    """Fit every curve in a file and write one row of answers per curve."""

    def body() -> None:
        from curvecast.batch import run_batch
        from curvecast.forecast import _check_prob
        from curvecast.persist import atomic_write

        _check_prob(prob_)
        data = _curves_for_bulk(curves, decreasing, metric_min, metric_max, x, y, limit)
        kw = {
            "family": family,
            "draws": draws,
            "chains": chains,
            "seed": seed,
            "priors": str(priors) if priors else None,
        }
        with _bar(not as_json, "batch") as progress:
            df, stats = run_batch(
                data, at=at, targets=targets or [], prob=prob_, fit_kwargs=kw, jobs=jobs, progress=progress
            )
        atomic_write(output, lambda tmp: df.to_csv(tmp, index=False))
        stats["output"] = str(output)
        if as_json:
            _emit_json(stats)
        else:
            typer.echo(
                f"wrote {output}: {stats['curves']} curves ({stats['failed']} failed) in "
                f"{stats['seconds']:.1f} s, {stats['curves_per_minute']:.1f} curves/min"
            )

    _run(body)


priors_app = typer.Typer(help="Prior library: derive priors from a fit, compare prior sets.", no_args_is_help=True)
app.add_typer(priors_app, name="priors")


@priors_app.command("derive")
def priors_derive(
    fit_path: Annotated[Path, typer.Argument(help="A saved fit (.nc) of an earlier project.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="TOML file to write (e.g. models/coco.toml).")],
    widen: Annotated[float, typer.Option("--widen", help="Widening factor for the marginals (>= 1).")] = 2.0,
    keep_level: Annotated[bool, typer.Option("--keep-level", help="Also transfer y_ref and room.")] = False,
) -> None:
    """Turn a fitted project's posterior into a prior file for the next project."""

    def body() -> None:
        from curvecast.persist import atomic_write, load_fit
        from curvecast.priors import to_toml
        from curvecast.transfer import derive, derive_header

        if output.suffix.lower() != ".toml":
            raise CurvecastError(f"output {str(output)!r} must end in .toml")
        f = load_fit(fit_path)
        _check_diag(f, False, False)  # a prior inherits the fit's sampling error: say so
        table = derive(f, widen=widen, keep_level=keep_level)
        text = to_toml(table, derive_header(f, widen, keep_level))
        atomic_write(output, lambda tmp: Path(tmp).write_text(text))
        typer.echo(text)
        typer.echo(f"wrote {output}")

    _run(body)


@priors_app.command("compare")
def priors_compare(
    data: Annotated[Path, typer.Argument(help="Data file (CSV, TSV or JSON lines).")],
    prior_files: Annotated[list[str], typer.Option("--priors", help="Prior file (repeat); 'default' = built-in.")],
    at: Annotated[float, typer.Option("--at", help="n at which to compare the bands.")] = 100_000,
    target: Annotated[float | None, typer.Option("--target", "-t", help="Target for P(reach) and n needed.")] = None,
    prob_: Annotated[float, typer.Option("--prob", help="Probability for n needed.")] = 0.8,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Faceted plot (.png/.svg).")] = None,
    max_n: Annotated[float | None, typer.Option("--max-n", help="Right end of the plot's x axis.")] = None,
    curve: Curve = None,
    family: Family = "pow3",
    metric_min: MetricMin = None,
    metric_max: MetricMax = None,
    decreasing: Decreasing = False,
    draws: Draws = 1000,
    chains: Chains = 4,
    seed: Seed = 0,
    x: XCol = None,
    y: YCol = None,
    as_json: Json = False,
) -> None:
    """How much of the forecast is the prior? Prior and posterior bands and answers per prior set."""

    def body() -> None:
        from curvecast.data import CurveData, load_curves, select_curve
        from curvecast.prior_sets import known_parameters
        from curvecast.priors import load_prior_file
        from curvecast.transfer import compare, plot_compare

        name, (n, yv) = select_curve(load_curves(data, x=x, y=y), curve)
        cd = CurveData(n, yv, increasing=not decreasing, metric_min=metric_min, metric_max=metric_max, name=name)
        if target is not None:
            cd.check_target(target)
        sets: dict[str, Any] = {}
        for pf in prior_files:
            sets[pf] = None if pf == "default" else load_prior_file(pf, known_parameters())
        with _progress(not as_json, "Sampling each prior set..."):
            rows, fits = compare(
                cd,
                sets,
                family=family,
                target=target,
                at=at,
                prob=prob_,
                fit_kwargs={"draws": draws, "chains": chains, "seed": seed},
            )
        if output is not None:
            plot_compare(fits, output, target, max_n)
        if as_json:
            _emit_json({"curve": name, "family": family, "rows": rows})
            return
        cols = ["priors", f"prior 90 % at {at:,.0f}", "posterior median", "posterior 90 %"]
        if target is not None:
            cols += ["P(target) prior", "P(target) posterior", f"n for P={prob_:g}"]
        table_rows = []
        for r in rows:
            row = [
                Path(r["priors"]).name,
                f"{r['prior_lower']:.3f} - {r['prior_upper']:.3f}",
                f"{r['post_median']:.3f}",
                f"{r['post_lower']:.3f} - {r['post_upper']:.3f}",
            ]
            if target is not None:
                row += [f"{r['p_target_prior']:.2f}", f"{r['p_target']:.2f}", _fmt_n(r["n_needed"])]
            table_rows.append(row)
        _table(f"Prior sets compared on {name} ({family})", cols, table_rows)
        if output is not None:
            typer.echo(f"wrote {output}")

    _run(body)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
