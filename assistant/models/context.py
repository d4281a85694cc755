"""Fitting a conversation into a context window, visibly.

Keeps every system message and the newest message; drops the oldest others until the prompt
fits ``budget`` tokens; if the newest message alone is still too long, cuts its middle. Every
change is described in the returned notes, which end up in the result and the trace.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import ContextOverflow, Message

MARK = "\n[… {n} characters cut to fit the model's context …]\n"


def fit(messages: list[Message], count: Callable[[str], int], budget: int) -> tuple[list[Message], list[str]]:
    if messages and messages[-1].role == "assistant":  # a prefill the reply continues: never cut
        kept, said = fit(messages[:-1], count, budget)
        return [*kept, messages[-1]], said

    def size(msgs: list[Message]) -> int:
        return sum(count(m.content) + 4 for m in msgs)

    if size(messages) <= budget:
        return messages, []
    notes: list[str] = []
    keep = list(messages)
    dropped = 0
    while size(keep) > budget:
        idx = next((i for i, m in enumerate(keep[:-1]) if m.role != "system"), None)
        if idx is None:
            break
        keep.pop(idx)
        dropped += 1
    if dropped:
        notes.append(f"dropped the {dropped} oldest message(s) to fit the context window")
    if size(keep) > budget:
        last = keep[-1]
        others = size(keep[:-1])
        room = budget - others - 8
        if room <= 16:
            raise ContextOverflow(
                "The system prompt alone does not fit the model's context window",
                hint="raise the context size (num_ctx) or use a model with a longer context",
            )
        text = last.content
        lo, hi = 0, len(text)
        while lo < hi:  # the most characters whose middle-cut version fits
            mid = (lo + hi + 1) // 2
            if count(_cut(text, mid)) <= room:
                lo = mid
            else:
                hi = mid - 1
        keep[-1] = last.model_copy(update={"content": _cut(text, lo)})
        notes.append(
            f"cut {len(text) - lo} of {len(text)} characters from the middle of the last message "
            "to fit the context window"
        )
    return keep, notes


def _cut(text: str, keep_chars: int) -> str:
    if keep_chars >= len(text):
        return text
    head = keep_chars // 2
    tail = keep_chars - head
    return text[:head] + MARK.format(n=len(text) - keep_chars) + (text[-tail:] if tail else "")
