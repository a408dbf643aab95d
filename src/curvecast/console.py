"""Answers on a terminal: :mod:`curvecast.tables`' blocks as rich tables (:func:`show`), notes and
warnings on stderr (stdout is kept for JSON), and, when stderr is a terminal, a spinner or a progress
bar (:func:`progress`) whose ``update`` the library's long runs take as ``progress=`` (``run_batch``,
``run_backtest``, ``next_run``). The CLI prints through it; so can a script:

>>> from curvecast import console, tables
>>> r = f.need(0.5, prob=0.8)
>>> console.show(tables.need(f, r))
>>> with console.progress(True, "batch", bar=True) as update:
...     run_batch("curves.csv", "answers.csv", at=[1e5], progress=update)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from curvecast.tables import BOLD, Block, Table

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
        cols = (  # a narrow terminal wraps a cell ("fold"), never cuts it to "0.74/0…"
            Column(_text(c), justify="left" if i < b.text_columns else "right", overflow="fold")
            for i, c in enumerate(b.columns)
        )
        t = Rich(*cols, title=_text(b.title), caption=_text(b.caption) if b.caption else None)
        for row in b.rows:
            t.add_row(*map(_text, row), *["-"] * (len(b.columns) - len(row)))
        console.print(t)


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
