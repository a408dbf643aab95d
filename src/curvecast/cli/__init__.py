"""The ``curvecast`` command line: plain functions (``commands``, ``decide``, ``bulk``, ``priors``) whose
flags and help ``options`` declares once, and whose answers ``render`` prints."""

from __future__ import annotations

import typer

from curvecast.cli import bulk, decide, priors
from curvecast.cli import commands as c
from curvecast.cli.options import typed
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
for cmd in (c.fit, c.prob, c.need, c.predict, c.gain, c.plot, c.report, decide.next_run, decide.compare,
            priors.families, c.demo, bulk.backtest, bulk.batch):  # fmt: skip
    app.command(cmd.__name__.removesuffix("_run"))(guarded(typed(cmd)))
for cmd in (priors.priors_derive, priors.priors_compare, priors.priors_default):
    priors_app.command(cmd.__name__.removeprefix("priors_"))(guarded(typed(cmd)))


def main() -> None:
    app()
