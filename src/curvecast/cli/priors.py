"""The registry and the prior library: ``families``, ``priors derive``, ``priors compare``, ``priors default``."""

from __future__ import annotations

from pathlib import Path

import typer

import curvecast as cc
from curvecast import console, tables
from curvecast.cli import render
from curvecast.cli.commands import curve_data
from curvecast.cli.options import with_fit_options
from curvecast.fit_options import FitOptions
from curvecast.outputs import atomic_write, check_output
from curvecast.results import check_query


def families(as_json: bool = False) -> None:
    """List the registered curve families with their formulas."""
    from curvecast.families import REGISTRY

    fams = [{"name": k, "formula": f.formula, "bounded": f.bounded, "params": [*f.params]} for k, f in REGISTRY.items()]
    render.emit_json({"families": fams}) if as_json else console.show(tables.families(fams))


def priors_derive(fit_path: Path, output: Path, widen: float = 2.0, keep_level: bool = False) -> None:
    """Turn a fitted project's posterior into a prior file for the next project."""
    from curvecast.transfer import check_widen, derive_header

    check_widen(widen)  # before the fit is read
    check_output(output, inputs=(fit_path,), suffixes=(".toml",))
    f = cc.load(fit_path)
    render.check_diagnostics(f.diagnostics, False, False)  # a prior inherits the fit's sampling error: say so
    text = cc.priors_to_toml(cc.derive_priors(f, widen, keep_level), derive_header(f, widen, keep_level))
    atomic_write(output, lambda tmp: Path(tmp).write_text(text))
    typer.echo(f"{text}wrote {output}")


@with_fit_options(omit=("priors",))
def priors_compare(
    o: FitOptions, data: Path, priors: list[str], at: float = 100_000, target: float | None = None,
    prob: float = 0.8, output: Path | None = None, max_n: float | None = None, as_json: bool = False,
    strict: bool = False,
) -> None:  # fmt: skip
    """How much of the forecast is the prior? Prior and posterior bands and answers per prior set, and
    each posterior's diagnostics (--strict: exit 3 when any failed)."""
    from curvecast.prior_sets import known_parameters
    from curvecast.priors import load_prior_file
    from curvecast.transfer import plot_compare

    check = check_query(target=target, at=at, prob=prob, max_n=max_n)
    if output is not None:
        check_output(output, inputs=(data,), suffixes=(".png", ".svg"))
    cd = curve_data(o, data)
    check(cd)
    sets = {p: None if p == "default" else load_prior_file(p, known_parameters()) for p in priors}
    with console.progress(not as_json, "Sampling each prior set..."):
        kw = {"family": o.family, "target": target, "at": at, "prob": prob, "fit_kwargs": o.sampler_kwargs()}
        rows, fits = cc.compare_priors(cd, sets, **kw)
    if output is not None:
        plot_compare(fits, output, target, max_n)
    family = next(iter(fits.values()))[1].label
    r = {
        "curve": cd.name,
        "family": family,
        "rows": rows,
        "x_unit": cd.x_unit,
        "at": at,
        "target": target,
        "prob": prob,
    }
    render.emit_json(r) if as_json else console.show(tables.prior_sets(r) + ([f"wrote {output}"] if output else []))
    for row, (_, post) in zip(rows, fits.values(), strict=True):  # one row per prior set, in the same order
        for note in row["notes"]:
            console.note(f"note: prior set {row['priors']}: {note}")
        render.check_diagnostics(post.diagnostics, False, as_json, f"prior set {row['priors']}: ")
    if strict and not all(post.diagnostics.ok for _, post in fits.values()):
        raise typer.Exit(render.EXIT_DIAGNOSTICS)


def priors_default(output: Path | None = None) -> None:
    """Write the built-in priors of every family, and the noise priors, as TOML (models/default.toml)."""
    from curvecast.prior_sets import default_toml

    if output is None:
        return typer.echo(default_toml(), nl=False)
    check_output(output, suffixes=(".toml",))
    atomic_write(output, lambda tmp: Path(tmp).write_text(default_toml()))
    typer.echo(f"wrote {output}")
