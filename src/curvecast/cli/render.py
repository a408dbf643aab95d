"""All CLI output: rich tables, one JSON object with ``--json``, warnings and errors on stderr."""

from __future__ import annotations

import functools
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from curvecast.errors import CurvecastError, DiagnosticsWarning
from curvecast.outputs import to_json
from curvecast.tables import BOLD, Block, Table

if TYPE_CHECKING:
    from curvecast.diagnostics import Diagnostics
    from curvecast.results import Forecast

EXIT_BAD_INPUT, EXIT_DIAGNOSTICS, EXIT_INTERRUPTED = 2, 3, 130
ERROR, WARNING = "[bold red]Error:[/]", "[bold yellow]Warning:[/]"


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _text(text: str) -> str:
    """User text (curve names, paths, messages) as rich markup that shows it as it is."""
    from rich.markup import escape

    return str(escape(text))


def _line(text: str) -> str:
    """A line of ``curvecast.tables``: its text as it is, its ``**bold**`` numbers bold."""
    return BOLD.sub(r"[bold]\1[/bold]", _text(text))


def error(msg: str, label: str = ERROR) -> None:
    _console(stderr=True).print(f"{label} {_text(msg)}", soft_wrap=True)


def note(msg: str) -> None:
    """One line on stderr (stdout is kept for --json)."""
    _console(stderr=True).print(_text(msg), soft_wrap=True)


def notes(lines: Iterable[str]) -> None:
    for line in lines:
        note(f"note: {line}")


def show(blocks: list[Block]) -> None:
    """Print lines and tables (``curvecast.tables``): text columns left-aligned, numbers right-aligned."""
    from rich.table import Column
    from rich.table import Table as Rich

    console = _console()
    for b in blocks:
        if not isinstance(b, Table):
            console.print(_line(b))
            continue
        cols = (Column(_text(c), justify="left" if i < b.text_columns else "right") for i, c in enumerate(b.columns))
        t = Rich(*cols, title=_text(b.title), caption=_text(b.caption) if b.caption else None)
        for row in b.rows:
            t.add_row(*map(_text, row), *["-"] * (len(b.columns) - len(row)))
        console.print(t)


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


@contextmanager
def progress(enabled: bool, text: str, bar: bool = False) -> Iterator[Callable[..., None] | None]:
    """On a terminal, a spinner, or (``bar``) a progress bar whose ``update(done, total, failed=0)`` it
    yields. Its rate and time left count from the start (start-up included), so they never promise too much."""
    if not (enabled and sys.stderr.isatty()):
        yield None
    elif not bar:
        with _console(stderr=True).status(text):
            yield None
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        start, fields = time.monotonic(), "[red]{task.fields[failed]}[/] {task.fields[rate]}"
        with Progress(
            text, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), fields, console=_console(True)
        ) as p:
            task = p.add_task(text, total=None, failed="", rate="")

            def update(done: int, total: int, failed: int = 0) -> None:
                per_min = 60 * done / max(time.monotonic() - start, 1e-9)
                eta = f", eta {(total - done) / per_min:.1f} min" if done else ""
                rate = f"{per_min:.1f} curves/min{eta}" if done else "-- curves/min"
                p.update(task, completed=done, total=total, failed=f"{failed} failed" if failed else "", rate=rate)

            yield update
