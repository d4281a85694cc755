"""``openbook traces``: every turn's steps, what went in and out, timings, chunks used."""

from __future__ import annotations

import json
from typing import Any

import click

from .common import AppContext, emit_json, json_option, open_store, pass_app


@click.group()
def traces() -> None:
    """List, show and export traces of past turns."""


@traces.command("list")
@click.option("-n", "limit", default=20, show_default=True, help="How many, newest first.")
@json_option
@pass_app
def traces_list(app: AppContext, limit: int, as_json: bool) -> None:
    """Recent traces."""
    with open_store(app.settings()) as (store, _):
        rows = store.execute("list_traces", {"limit": limit})
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo('No traces yet. Ask something with: openbook ask "..."')
        return
    for r in rows:
        q = " ".join(r["question"].split())
        click.echo(
            f"{r['id']:>5}  {r['started_at']:%Y-%m-%d %H:%M}  {r['status']:<7} "
            f"{r['duration_ms'] / 1000:>6.1f}s {r['spans']:>3} spans  {q[:60]}"
        )


def _brief(value: Any, width: int) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_tree(trace: dict[str, Any], spans: list[dict[str, Any]], full: bool = False) -> str:
    width = 10_000 if full else 160
    lines = [f"Trace {trace['id']}  [{trace['status']}]  {trace['question']}"]
    children: dict[int | None, list[dict[str, Any]]] = {}
    for s in spans:
        children.setdefault(s["parent_id"], []).append(s)

    def walk(parent: int | None, depth: int) -> None:
        for s in children.get(parent, []):
            pad = "  " * depth
            took = f"{s['duration_ms']:.0f} ms" if s["duration_ms"] is not None else "running"
            model = f"  {s['model']} ({s['backend']})" if s["model"] else ""
            lines.append(f"{pad}├─ {s['name']}  [{s['status']}]  {took}{model}")
            if s["input"] is not None:
                lines.append(f"{pad}│    in:  {_brief(s['input'], width)}")
            if s["output"] is not None:
                lines.append(f"{pad}│    out: {_brief(s['output'], width)}")
            if s["usage"]:
                u = s["usage"]
                lines.append(
                    f"{pad}│    tokens: {u.get('prompt_tokens', 0)} prompt + "
                    f"{u.get('completion_tokens', 0)} completion"
                )
            for c in s["chunks"] or []:
                lines.append(
                    f"{pad}│    chunk {c.get('chunk_id')}  fused #{c.get('rank')}  "
                    f"bm25 #{c.get('bm25_rank') or '—'}  vector #{c.get('vector_rank') or '—'}  "
                    f"{c.get('source', '')}"
                )
            for note in s["notes"] or []:
                lines.append(f"{pad}│    note: {note}")
            if s["error"]:
                lines.append(f"{pad}│    error: {s['error']}")
            if full and s["prompt"]:
                lines.append(f"{pad}│    prompt:\n{s['prompt']}")
            walk(s["id"], depth + 1)

    walk(None, 0)
    if trace.get("answer"):
        lines.append(f"Answer: {trace['answer']}")
    return "\n".join(lines)


@traces.command("show")
@click.argument("trace_id", type=int, required=False)
@click.option("--full", is_flag=True, help="Whole inputs, outputs and rendered prompts.")
@json_option
@pass_app
def traces_show(app: AppContext, trace_id: int | None, full: bool, as_json: bool) -> None:
    """One trace as a tree (default: the latest)."""
    from .. import tracing

    with open_store(app.settings()) as (store, _):
        if trace_id is None:
            trace_id = store.execute("latest_trace_id")[0]["id"]
            if trace_id is None:
                raise click.UsageError("There are no traces yet.")
        trace, spans = tracing.load(store, trace_id)
    if as_json:
        emit_json({"trace": trace, "spans": spans})
    else:
        click.echo(render_tree(trace, spans, full))


@traces.command("export")
@click.argument("trace_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "otel"]),
    default="json",
    show_default=True,
    help="Our rows, or OpenTelemetry OTLP/JSON.",
)
@pass_app
def traces_export(app: AppContext, trace_id: int, fmt: str) -> None:
    """Export a trace as JSON."""
    from .. import tracing

    with open_store(app.settings()) as (store, _):
        trace, spans = tracing.load(store, trace_id)
    emit_json(tracing.to_otel(trace, spans) if fmt == "otel" else {"trace": trace, "spans": spans})
