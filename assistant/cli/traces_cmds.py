"""``openbook traces``: every turn's steps, what went in and out, timings, chunks used."""

from __future__ import annotations

import click

from openbook.db import traces as trace_rows

from ..trace_view import render_tree
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
        rows = trace_rows.list_traces(store, limit)
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
            trace_id = trace_rows.latest_id(store)
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


@traces.command("calls")
@click.option("-n", "limit", default=20, show_default=True, help="How many, newest first.")
@json_option
@pass_app
def traces_calls(app: AppContext, limit: int, as_json: bool) -> None:
    """What other agents asked of the library through `openbook mcp`: each tool call, its
    arguments, duration and result size (an `ask` also names its trace)."""
    from openbook.db import tools as call_rows

    with open_store(app.settings()) as (store, _):
        rows = call_rows.recent_calls(store, limit)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No tool calls yet. Other agents call the library through `openbook mcp`.")
        return
    for r in rows:
        args = ", ".join(f"{k}={v!r}" for k, v in r["arguments"].items() if v is not None)
        outcome = f"{r['result_chars']:>6} chars" if r["status"] == "ok" else "error  "
        trace = f"  trace {r['trace_id']}" if r["trace_id"] else ""
        click.echo(
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}  {r['tool']:<15} {r['duration_ms']:>7.0f} ms {outcome}"
            f"  {args[:70]}{trace}  [{r['client'] or '?'}]"
        )
        if r["error"]:
            click.echo(f"    {r['error'][:200]}")
