"""The table code the bench scripts share: percentages as the figures show them, and Markdown
tables (a header, its rule, the rows). Scripts import it as ``tables`` (bench/ is their path)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def pct(v: float | None, digits: int = 1) -> str:
    """A 0..1 share as a percentage ("—" when there is none)."""
    return "—" if v is None else f"{100 * v:.{digits}f}"


def row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def header(columns: Sequence[str]) -> list[str]:
    """A Markdown table's first two lines."""
    return [row(columns), "|" + "---|" * len(columns)]


def markdown(columns: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    return "\n".join([*header(columns), *(row(r) for r in rows)])
