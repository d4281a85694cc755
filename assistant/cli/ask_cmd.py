"""``openbook ask``: one question through the agent pipeline, streamed, with numbered sources."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

from openbook.agents.pipeline import SWITCHES

from ..settings import PipelineSettings
from .common import AppContext, emit_json, err, json_option, open_store, pass_app


def step_switches(command: Any) -> Any:
    """``--<step>/--no-<step>`` for every pipeline switch, documented by its setting (neither:
    as configured)."""
    for name in reversed(SWITCHES):
        what = PipelineSettings.model_fields[name].description or name
        command = click.option(f"--{name}/--no-{name}", name, default=None, help=what)(command)
    return command


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--session", help="Continue (or start) the conversation with this name.")
@click.option("--trace", "show_trace", is_flag=True, help="Print the span tree afterwards.")
@step_switches
@click.option("--plain", is_flag=True, help="Baseline: retrieve top-k with the question, answer.")
@json_option
@pass_app
def ask(
    app: AppContext,
    question: tuple[str, ...],
    session: str | None,
    show_trace: bool,
    plain: bool,
    as_json: bool,
    **switched: bool | None,
) -> None:
    """Ask a question of your documents."""
    from .. import library, tracing
    from ..models.resolve import resolve_roles
    from ..trace_view import render_tree
    from ..turn import Turn, TurnCancelled

    text = " ".join(question)
    settings = app.settings()
    p = settings.pipeline.model_copy(update={name: on for name, on in switched.items() if on is not None})
    models, reasons = resolve_roles(settings)
    if not as_json:
        answerer = models["answerer"]
        err(f"[{answerer.name} ({answerer.backend}): {reasons['answerer']}]")

    streamed: list[str] = []

    def stream(piece: str) -> None:
        streamed.append(piece)
        sys.stdout.write(piece)
        sys.stdout.flush()

    with open_store(settings, with_embedder=True) as (store, embedder):
        store.check_embedding(embedder.identity)
        busy = library.busy_notice(store)
        if busy and not as_json:
            err(f"[{busy}]")
        turn = Turn(store, embedder, settings, models)
        with stopped_by_ctrl_c() as stop:
            try:
                result = turn.ask(
                    text,
                    session=session,
                    pipeline=p,
                    plain=plain,
                    on_token=None if as_json else stream,
                    stop=stop,
                )
            except TurnCancelled as exc:
                err(f"\n[stopped: trace {getattr(exc, 'trace_id', '?')} says where]")
                raise SystemExit(130) from exc
        trace = tracing.load(store, result.trace_id) if show_trace else None
    if as_json:
        emit_json(result.model_dump())
        return
    click.echo("\n")
    checked = changed_after_streaming("".join(streamed), result.answer)
    if checked:
        click.echo(checked + "\n")
    for note in result.notes:
        err(f"[note: {note}]")
    show_evidence(result)
    if result.sources:
        cited = {c.n for c in result.citations}
        click.echo("Sources (* = cited in the answer):")
        for c in result.sources:
            where = f" — {c.location}" if c.location else ""
            click.echo(f"  [{c.n}]{'*' if c.n in cited else ' '} {c.title}{where}  ({c.source})")
            click.echo(f"       {c.snippet}")
    click.echo(f"(trace {result.trace_id}: openbook traces show {result.trace_id})")
    if trace is not None:
        click.echo("\n" + render_tree(*trace))


def changed_after_streaming(streamed: str, answer: str) -> str | None:
    """The answer as the checks left it, when that is not what streamed (a citation moved to the
    passage that holds the answer's words, one removed, or one added): stdout cannot take back
    what it printed, so the checked answer follows it, said to be the one that counts."""
    shown, final = " ".join(streamed.split()), " ".join(answer.split())
    if not final or shown.endswith(final):  # a compound answer streams its pieces first
        return None
    return f"Checked: {answer}"


def show_evidence(result: Any) -> None:
    """The sentences the answer rests on, quoted, dim; a visible warning when its words are not
    in them."""
    if result.declined or not (result.support or result.answer):
        return
    if result.support:
        click.secho("Evidence:", dim=True)
        for e in result.support:
            where = f"{e.title} — {e.location}" if e.location else e.title
            click.secho(f'  [{e.n}] "{e.quote}"', dim=True)
            click.secho(f"       {where}  ({e.document})", dim=True)
    if not result.supported:
        click.secho(
            "  ! The answer's words are not in the quoted passages: check the sources before relying on it.",
            fg="yellow",
        )
    click.echo()


@contextlib.contextmanager
def stopped_by_ctrl_c() -> Iterator[Any]:
    """A cancel token that Ctrl-C sets, so the turn stops at whatever step it is in (llama.cpp
    included, which a plain KeyboardInterrupt would not reach until its computation ends)."""
    import signal

    from openbook.agents.kit.cancel import CancelToken

    token = CancelToken()
    if threading.current_thread() is not threading.main_thread():
        yield token
        return
    previous = signal.signal(signal.SIGINT, lambda _sig, _frame: token.cancel())
    try:
        yield token
    finally:
        signal.signal(signal.SIGINT, previous)
