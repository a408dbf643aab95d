"""The CLI's boundary: exit codes, errors without tracebacks, one JSON object with ``--json``, diagnostics
warnings; answers print through :mod:`curvecast.console`."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from curvecast.console import WARNING, error, show
from curvecast.errors import CurvecastError, DiagnosticsWarning
from curvecast.outputs import to_json
from curvecast.tables import Block

if TYPE_CHECKING:
    from curvecast.diagnostics import Diagnostics
    from curvecast.results import Forecast

EXIT_BAD_INPUT, EXIT_DIAGNOSTICS, EXIT_INTERRUPTED = 2, 3, 130


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
            error("interrupted; every output is written whole or not at all: none is left half-written")
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
        error(what + d.warning(), WARNING)
    if d.problems and strict:
        raise typer.Exit(EXIT_DIAGNOSTICS)


def emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(to_json(obj) + "\n")


def answer(f: Forecast, r: dict[str, Any], view: Callable[..., list[Block]], as_json: bool, strict: bool) -> None:
    """A command's answer ``r``: as JSON, with what was fitted, or as ``view(f, r)``; then the diagnostics."""
    emit_json(f.describe() | r) if as_json else show(view(f, r))
    check_diagnostics(f.diagnostics, strict, as_json)
