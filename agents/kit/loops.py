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
_MARKS = ".!?:;,"  # end a sentence or clause when whitespace follows
_ENDS = "\n" + _MARKS  # a piece holding one of these may complete a unit
_UNIT = re.compile(rf"[^\n]+?(?:[{re.escape(_MARKS)}](?=\s)|$)", re.M)


def _units(text: str) -> list[tuple[str, int]]:
    """Each unit's folded text and where it starts in ``text``."""
    out = []
    for m in _UNIT.finditer(text):
        key = " ".join(m.group(0).split()).casefold()
        if len(key) > 1:
            out.append((key, m.start() + len(m.group(0)) - len(m.group(0).lstrip())))
    return out


def _repeats(keys: list[str], start: int, period: int, times: int) -> bool:
    """Whether ``keys[start:]`` begins with ``times`` copies of its first ``period`` keys."""
    end = start + period * times
    return end <= len(keys) and all(keys[i] == keys[i - period] for i in range(start + period, end))


def cut_loop(text: str, times: int = LOOP_TIMES) -> tuple[str, str | None]:
    """``text`` cut after the first copy of a run of units (one, or a cycle of several) that
    follows itself ``times`` times in a row, and that run; ``(text, None)`` when none does."""
    units = _units(text)
    keys = [k for k, _ in units]
    for s in range(len(keys)):
        for period in range(1, (len(keys) - s) // times + 1):
            if _repeats(keys, s, period, times):
                return text[: units[s + period][1]].rstrip().rstrip(",;"), " ".join(keys[s : s + period])
    return text, None


class LoopGuard:
    """Passes streamed pieces on until the text so far ends in a loop (as ``cut_loop`` finds
    them: checked at each unit's end, so a loop is caught as its last copy completes); then
    shows no more."""

    def __init__(self, on_token: Callable[[str], None], times: int = LOOP_TIMES) -> None:
        self.on_token, self.times, self.text, self.stopped = on_token, times, "", False

    def __call__(self, piece: str) -> None:
        if self.stopped:
            return
        self.text += piece
        if any(c in piece for c in _ENDS) and self._ends_in_loop():
            self.stopped = True
            return
        self.on_token(piece)

    def _ends_in_loop(self) -> bool:
        keys = [k for k, _ in _units(self.text)]
        if keys and self.text[-1] not in _ENDS and not self.text[-1].isspace():
            keys.pop()  # the unit being written
        n = len(keys)
        return any(_repeats(keys, n - p * self.times, p, self.times) for p in range(1, n // self.times + 1))
