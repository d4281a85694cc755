"""Runaway repetition in a streamed reply: small models sometimes say one line or sentence over
and over until ``max_tokens`` ("Megaman X:\\nMegaman X:\\nMegaman X:…"). The reply is cut where
the repetition starts (one copy is kept), and the stream stops showing it once it is seen.

A unit is a line, a sentence or a clause (ended by ``.``, ``!``, ``?``, ``:``, ``;`` or ``,``),
compared with case and spacing folded; a reply loops when a unit, or a cycle of units, follows
itself ``LOOP_TIMES`` times in a row. Twice is not enough: an answer may fairly say a thing twice."""

from __future__ import annotations

import re
from collections.abc import Callable

LOOP_TIMES = 3
_UNIT = re.compile(r"[^\n]+?(?:[.!?:;,](?=\s)|$)", re.M)


def _units(text: str) -> list[tuple[str, int]]:
    """Each unit's folded text and where it starts in ``text``."""
    out = []
    for m in _UNIT.finditer(text):
        key = " ".join(m.group(0).split()).casefold()
        if len(key) > 1:
            out.append((key, m.start() + len(m.group(0)) - len(m.group(0).lstrip())))
    return out


def cut_loop(text: str, times: int = LOOP_TIMES) -> tuple[str, str | None]:
    """``text`` cut after the first copy of a run of units (one, or a cycle of several) that
    follows itself ``times`` times in a row, and that run; ``(text, None)`` when none does."""
    units = _units(text)
    keys = [k for k, _ in units]
    for s in range(len(keys)):
        for period in range(1, (len(keys) - s) // times + 1):
            block = keys[s : s + period]
            if all(keys[s + i] == block[i % period] for i in range(period * times)):
                return text[: units[s + period][1]].rstrip().rstrip(",;"), " ".join(block)
    return text, None


class LoopGuard:
    """Passes streamed pieces on until the text so far loops (``cut_loop``); then shows no more."""

    def __init__(self, on_token: Callable[[str], None]) -> None:
        self.on_token, self.text, self.stopped = on_token, "", False

    def __call__(self, piece: str) -> None:
        if self.stopped:
            return
        self.text += piece
        ends_unit = any(c in piece for c in "\n.!?:;,")
        if ends_unit and cut_loop(self.text)[1] is not None:
            self.stopped = True
            return
        self.on_token(piece)
