"""The terminal printer the CLI and scripts share: tables and lines as they are, progress only on a terminal."""

from __future__ import annotations

from curvecast import console
from curvecast.tables import Table


def test_show_prints_user_text_as_it_is_and_bold_numbers(capsys):
    console.show([Table("Fits [of] a", ["curve", "n"], [["[red]x[/red]", "1,000"], ["y"]]), "P = **0.93**"])
    out = capsys.readouterr().out
    assert "Fits [of] a" in out and "[red]x[/red]" in out  # rich markup in a name is shown, not obeyed
    assert "P = 0.93" in out and "**" not in out
    assert any(line.startswith("│ y") and line.rstrip("│ ").endswith("-") for line in out.splitlines())  # padded


def test_notes_go_to_stderr_and_progress_is_silent_off_a_terminal(capsys):
    console.notes(["read as percentages"])
    with console.progress(True, "batch", bar=True) as update:
        assert update is None  # pytest's stderr is no terminal: no bar, and callers pass progress=None
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "note: read as percentages"


def test_a_narrow_terminal_wraps_cells_and_never_cuts_them(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    console.show([Table("t", ["a", "b", "c", "d"], [["0.74/0.26", "123456789", "0.5555/0.4444", "abc"]], "", 0)])
    out = capsys.readouterr().out
    cells = "".join(ch for ch in out if ch not in "│┃ \n")
    assert "…" not in out and "0.74/0.2" in cells and "0.5555/0" in cells, out
