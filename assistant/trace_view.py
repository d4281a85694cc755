"""One renderer for stored spans, shared by ``openbook traces show`` / ``ask --trace`` (a text
tree) and the chat's trace pane (a tree widget plus a detail view)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

STATUS_STYLE = {"ok": "green", "fallback": "yellow", "error": "red", "cancelled": "red"}


def took(s: dict[str, Any], timings: bool = True) -> str:
    """ "123 ms"; for a span that has not ended, "running… 3.2 s" (the time since it started),
    or just "running…" without timings (snapshot tests)."""
    if s.get("duration_ms") is None:
        started = s.get("started_at")
        if not timings or not isinstance(started, dt.datetime):
            return "running…"
        now = dt.datetime.now(started.tzinfo) if started.tzinfo else dt.datetime.now()
        return f"running… {max(0.0, (now - started).total_seconds()):.1f} s"
    return f"{s['duration_ms']:.0f} ms" if timings else ""


def heading(s: dict[str, Any], timings: bool = True) -> str:
    model = f"  {s['model']} ({s['backend']})" if s.get("model") else ""
    return f"{s['name']}  [{s['status']}]  {took(s, timings)}{model}"


def _value(value: Any, width: int | None) -> str:
    if width is None:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def details(s: dict[str, Any], width: int | None = 160, prompt: bool = False) -> list[str]:
    """What went in and out, tokens, chunks, notes, error (and the prompt): one entry each.
    ``width=None`` pretty-prints inputs and outputs in full."""
    labels = (
        (("input:\n", "input"), ("output:\n", "output"))
        if width is None
        else (("in:  ", "input"), ("out: ", "output"))
    )
    out = [f"{label}{_value(s[key], width)}" for label, key in labels if s.get(key) is not None]
    if s.get("usage"):
        u = s["usage"]
        out.append(f"tokens: {u.get('prompt_tokens', 0)} prompt + {u.get('completion_tokens', 0)} completion")
    for c in s.get("chunks") or []:
        out.append(
            f"chunk {c.get('chunk_id')}  #{c.get('rank')}"
            + (
                f"  rerank {c['rerank_score']:+.2f}  fused #{c.get('fused_rank')}"
                if c.get("rerank_score") is not None
                else ""
            )
            + f"  bm25 #{c.get('bm25_rank') or '—'}  vector #{c.get('vector_rank') or '—'}"
            + f"  {c.get('source', '')}"
        )
    out += [f"note: {n}" for n in s.get("notes") or []]
    if s.get("error"):
        out.append(f"error: {s['error']}")
    if prompt and s.get("prompt"):
        out.append(f"prompt:\n{s['prompt']}")
    return out


def render_tree(trace: dict[str, Any], spans: list[dict[str, Any]], full: bool = False) -> str:
    """A trace as an indented text tree."""
    width = 10_000 if full else 160
    lines = [f"Trace {trace['id']}  [{trace['status']}]  {trace['question']}"]
    children: dict[int | None, list[dict[str, Any]]] = {}
    for s in spans:
        children.setdefault(s["parent_id"], []).append(s)

    def walk(parent: int | None, depth: int) -> None:
        for s in children.get(parent, []):
            pad = "  " * depth
            lines.append(f"{pad}├─ {heading(s)}")
            lines.extend(f"{pad}│    {line}" for line in details(s, width, prompt=full))
            walk(s["id"], depth + 1)

    walk(None, 0)
    if trace.get("answer"):
        lines.append(f"Answer: {trace['answer']}")
    return "\n".join(lines)


def detail_text(s: dict[str, Any]) -> str:
    """Everything about one span, for the chat's detail view."""
    return "\n".join([heading(s), *details(s, width=None, prompt=True)])
