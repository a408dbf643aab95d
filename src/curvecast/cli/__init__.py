"""The ``curvecast`` command line: ``options`` declares shared options, ``commands`` runs, ``render`` prints."""

from __future__ import annotations

import typer

from curvecast.cli import bulk, decide, report
from curvecast.cli import commands as c
from curvecast.cli.render import guarded

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Bayesian learning-curve forecasts: P(target at n), data needed, what more data buys.",
    pretty_exceptions_enable=False,
)
priors_app = typer.Typer(
    no_args_is_help=True, help="Prior library: derive priors from a fit, compare prior sets, write the defaults."
)
app.add_typer(priors_app, name="priors")
for cmd in (c.fit, c.prob, c.need, c.predict, c.gain, c.plot, c.families, c.demo, bulk.backtest, bulk.batch):
    app.command()(guarded(cmd))
for name, cmd in (("derive", c.priors_derive), ("compare", c.priors_compare), ("default", c.priors_default)):
    priors_app.command(name)(guarded(cmd))
app.command()(guarded(report.report))  # issue 15: the one-file HTML report
for name, cmd in (("next", decide.next_run), ("compare", decide.compare)):  # issue 13: decisions
    app.command(name)(guarded(cmd))


def main() -> None:
    app()
