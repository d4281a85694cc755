"""Traces as rows: a trace per turn, a span per step / model call / retrieval.

Each span is inserted when it starts (status ``running``) and updated when it ends, each write
in its own transaction, so the UI can show a turn filling in live and a crash leaves a readable
partial trace. The TUI, the CLI and the evaluation read the same rows.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from openbook.agents.kit.cancel import Cancelled
from openbook.agents.kit.llm import ChatResult
from openbook.db import traces as rows

from .store import Store


@dataclass(frozen=True)
class SpanEvent:
    """Pushed to a listener (the TUI) when a span starts or ends."""

    trace_id: int
    span_id: int
    parent_id: int | None
    name: str
    kind: str
    status: str  # "running" at start, then ok / fallback / error


SpanListener = Callable[[SpanEvent], None]


class Span:
    """A stored span (implements the agents' ``kit.trace.Span``)."""

    def __init__(self, trace: Trace, span_id: int, name: str, kind: str, parent_id: int | None) -> None:
        self.trace = trace
        self.id = span_id
        self.name = name
        self.kind = kind
        self.parent_id = parent_id
        self.status = "ok"
        self.output: Any = None
        self.prompt: str | None = None
        self.model: str | None = None
        self.backend: str | None = None
        self.usage: dict[str, Any] | None = None
        self.chunks: Any = None
        self.notes: list[str] = []
        self.error: str | None = None

    def fallback(self, reason: str) -> None:
        """The step did not do its job and a defined fallback was used: recorded, never hidden."""
        self.status = "fallback"
        self.notes.append(f"fallback: {reason}")

    def record_call(self, result: ChatResult, prompt: str | None = None) -> None:
        """Model, backend, usage and notes of a ChatResult."""
        self.model, self.backend = result.model, result.backend
        self.usage = result.usage.model_dump()
        self.notes.extend(result.notes)
        if result.partial:
            self.notes.append("the model's stream broke off: the output is partial")
        if prompt is not None:
            self.prompt = prompt

    def _finish(self) -> None:
        rows.finish_span(
            self.trace.store,
            self.id,
            {
                "status": self.status,
                "output": self.output,
                "prompt": self.prompt,
                "model": self.model,
                "backend": self.backend,
                "usage": self.usage,
                "chunks": self.chunks,
                "notes": self.notes,
                "error": self.error,
            },
        )
        self.trace.emit(self, self.status)


class Trace:
    def __init__(self, store: Store, trace_id: int, listener: SpanListener | None = None) -> None:
        self.store = store
        self.id = trace_id
        self.listener = listener

    def emit(self, span: Span, status: str) -> None:
        if self.listener is not None:
            self.listener(SpanEvent(self.id, span.id, span.parent_id, span.name, span.kind, status))

    @contextlib.contextmanager
    def span(self, name: str, kind: str = "step", input: Any = None, parent: Any = None) -> Iterator[Span]:
        parent_id = parent.id if parent is not None else None
        span_id = rows.insert_span(self.store, self.id, parent_id, name, kind, input)
        span = Span(self, span_id, name, kind, parent_id)
        self.emit(span, "running")
        try:
            yield span
        except Cancelled as exc:
            span.status, span.error = "cancelled", str(exc)
            span._finish()
            raise
        except BaseException as exc:
            span.status = "error"
            span.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            span._finish()
            raise
        span._finish()

    def finish(self, status: str, answer: str | None = None) -> None:
        rows.finish_trace(self.store, self.id, status, answer)


def start_trace(
    store: Store,
    question: str,
    *,
    session_id: int | None = None,
    metadata: dict[str, Any] | None = None,
    listener: SpanListener | None = None,
) -> Trace:
    return Trace(store, rows.insert_trace(store, question, session_id, metadata or {}), listener)


def load(store: Store, trace_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from .errors import NotFoundError

    row = rows.get_trace(store, trace_id)
    if row is None:
        raise NotFoundError(f"No trace {trace_id}", hint="see `openbook traces list`")
    return row, rows.spans(store, trace_id)


def to_otel(trace: dict[str, Any], spans: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenTelemetry OTLP/JSON (``resourceSpans``) for one trace."""

    def ns(ts: Any) -> str:
        return str(int(ts.timestamp() * 1_000_000_000)) if ts else "0"

    def attr(key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"key": key, "value": {"boolValue": value}}
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value)}}
        if isinstance(value, float):
            return {"key": key, "value": {"doubleValue": value}}
        import json

        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return {"key": key, "value": {"stringValue": text}}

    trace_hex = f"{trace['id']:032x}"
    out = []
    for s in spans:
        attrs = [attr("openbook.kind", s["kind"]), attr("openbook.status", s["status"])]
        for key in ("input", "output", "prompt", "model", "backend", "usage", "chunks", "notes"):
            if s.get(key) not in (None, [], {}):
                attrs.append(attr(f"openbook.{key}", s[key]))
        item = {
            "traceId": trace_hex,
            "spanId": f"{s['id']:016x}",
            "name": s["name"],
            "kind": 1,
            "startTimeUnixNano": ns(s["started_at"]),
            "endTimeUnixNano": ns(s["ended_at"]),
            "attributes": attrs,
            "status": {"code": 2, "message": s["error"] or ""} if s["status"] == "error" else {"code": 1},
        }
        if s["parent_id"]:
            item["parentSpanId"] = f"{s['parent_id']:016x}"
        out.append(item)
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        attr("service.name", "openbook"),
                        attr("openbook.question", trace["question"]),
                    ]
                },
                "scopeSpans": [{"scope": {"name": "openbook"}, "spans": out}],
            }
        ]
    }
