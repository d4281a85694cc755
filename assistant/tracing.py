"""Traces as rows: a trace per turn, a span per step / model call / retrieval.

Each span is inserted when it starts (status ``running``) and updated when it ends, each write
in its own transaction, so the UI can show a turn filling in live and a crash leaves a readable
partial trace. The TUI, the CLI and the evaluation read the same rows.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from .store import Store


def _json(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump(mode="json") for v in value]
    return Jsonb(value)


class Span:
    def __init__(self, trace: Trace, span_id: int, name: str) -> None:
        self.trace = trace
        self.id = span_id
        self.name = name
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

    def record_call(self, result: Any, prompt: str | None = None) -> None:
        """Model, backend, usage and notes of a ChatResult."""
        self.model, self.backend = result.model, result.backend
        self.usage = result.usage.model_dump()
        self.notes.extend(result.notes)
        if prompt is not None:
            self.prompt = prompt

    @contextlib.contextmanager
    def child(self, name: str, kind: str = "step", input: Any = None) -> Iterator[Span]:
        with self.trace.span(name, kind, input, parent=self) as span:
            yield span

    def _finish(self) -> None:
        self.trace.store.execute(
            "finish_span",
            {
                "id": self.id,
                "status": self.status,
                "output": _json(self.output),
                "prompt": self.prompt,
                "model": self.model,
                "backend": self.backend,
                "usage": _json(self.usage),
                "chunks": _json(self.chunks),
                "notes": Jsonb(self.notes),
                "error": self.error,
            },
        )


class Trace:
    def __init__(self, store: Store, trace_id: int) -> None:
        self.store = store
        self.id = trace_id

    @contextlib.contextmanager
    def span(
        self, name: str, kind: str = "step", input: Any = None, parent: Span | None = None
    ) -> Iterator[Span]:
        row = self.store.execute(
            "insert_span",
            {
                "trace_id": self.id,
                "parent_id": parent.id if parent else None,
                "name": name,
                "kind": kind,
                "input": _json(input),
            },
        )[0]
        span = Span(self, int(row["id"]), name)
        try:
            yield span
        except BaseException as exc:
            span.status = "error"
            span.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            span._finish()
            raise
        span._finish()

    def finish(self, status: str, answer: str | None = None) -> None:
        self.store.execute("finish_trace", {"id": self.id, "status": status, "answer": answer})


def start_trace(
    store: Store, question: str, *, session_id: int | None = None, metadata: dict | None = None
) -> Trace:
    row = store.execute(
        "insert_trace",
        {"session_id": session_id, "question": question, "metadata": Jsonb(metadata or {})},
    )[0]
    return Trace(store, int(row["id"]))


def load(store: Store, trace_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from .errors import NotFoundError

    rows = store.execute("get_trace", {"id": trace_id})
    if not rows:
        raise NotFoundError(f"No trace {trace_id}", hint="see `openbook traces list`")
    return rows[0], store.execute("spans_of_trace", {"trace_id": trace_id})


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
