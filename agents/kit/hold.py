"""Holding back a streamed reply that may still be withdrawn: while the answer so far could
become a decline ("I could not find…"), its tokens are held, and dropped if it does. The runner
(``Stream``) wraps a step's stream in ``HeldDecline`` when the step says its reply may be
withdrawn."""

from __future__ import annotations

import re
from collections.abc import Callable

DECLINE_PATTERNS = re.compile(
    r"could not find|couldn't find|do(es)? not (say|mention|contain)|not (mentioned|stated) in|"
    r"no information|don't know|do not know|cannot answer|can't answer",
    re.I,
)


def is_decline(answer: str) -> bool:
    """Whether an answer says the evidence does not hold the answer."""
    return bool(DECLINE_PATTERNS.search(answer))


class HeldDecline:
    """Streams tokens on, except while the answer so far could still become a decline: those
    are held until it clearly does not (``release``), and dropped if it does."""

    def __init__(self, on_token: Callable[[str], None]) -> None:
        self.on_token, self.released = on_token, False
        self.pieces: list[str] = []
        self.hold_all = False  # hold the whole reply: the step rewrites it before it is shown

    def __call__(self, piece: str) -> None:
        if self.released:
            self.on_token(piece)
            return
        self.pieces.append(piece)
        text = "".join(self.pieces)
        if len(text) > 80 and not is_decline(text) and not self.hold_all:
            self.release()

    def restart(self) -> None:
        """Drop what was held: the step asks again, and the new reply is what may be shown."""
        if not self.released:
            self.pieces.clear()

    def finish(self, text: str) -> None:
        """Show ``text`` (the reply as the step rewrote it) in place of what was held."""
        if not self.released:
            self.released = True
            self.on_token(text)

    def release(self) -> None:
        if not self.released:
            self.released = True
            if self.pieces:
                self.on_token("".join(self.pieces))
