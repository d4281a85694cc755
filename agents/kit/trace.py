"""The tracing interface the agents write to. ``openbook.assistant.tracing`` stores these spans
as rows; ``NullTracer`` keeps them in memory for a step run outside a turn."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

from .cancel import Cancelled
from .llm import ChatResult


class Span(Protocol):
    """One step, model call or tool call of a turn, filled in while it runs."""

    name: str
    status: str
    output: Any
    prompt: str | None
    chunks: Any
    notes: list[str]

    def fallback(self, reason: str) -> None:
        """The step did not do its job and a defined fallback was used: recorded, never hidden."""

    def record_call(self, result: ChatResult, prompt: str | None = None) -> None:
        """Model, backend, usage and notes of a model call."""


class Tracer(Protocol):
    def span(
        self, name: str, kind: str = "step", input: Any = None, parent: Span | None = None
    ) -> contextlib.AbstractContextManager[Span]: ...


class MemorySpan:
    """A span kept in memory: what a step recorded when no trace is stored."""

    def __init__(self, name: str, kind: str = "step", input: Any = None, parent: MemorySpan | None = None):
        self.name, self.kind, self.input, self.parent = name, kind, input, parent
        self.status = "ok"
        self.output: Any = None
        self.prompt: str | None = None
        self.chunks: Any = None
        self.notes: list[str] = []
        self.calls: list[ChatResult] = []

    def fallback(self, reason: str) -> None:
        self.status = "fallback"
        self.notes.append(f"fallback: {reason}")

    def record_call(self, result: ChatResult, prompt: str | None = None) -> None:
        self.calls.append(result)
        self.notes.extend(result.notes)
        if prompt is not None:
            self.prompt = prompt


class NullTracer:
    """Collects spans in memory (``spans``), in the order they started."""

    def __init__(self) -> None:
        self.spans: list[MemorySpan] = []

    @contextlib.contextmanager
    def span(
        self, name: str, kind: str = "step", input: Any = None, parent: Span | None = None
    ) -> Iterator[MemorySpan]:
        span = MemorySpan(name, kind, input, parent if isinstance(parent, MemorySpan) else None)
        self.spans.append(span)
        try:
            yield span
        except Cancelled:
            span.status = "cancelled"
            raise
        except BaseException:
            span.status = "error"
            raise
