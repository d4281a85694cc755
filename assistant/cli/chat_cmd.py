"""``openbook chat`` (and plain ``openbook``): the terminal chat app."""

from __future__ import annotations

from pathlib import Path

import click

from .common import AppContext, pass_app


@click.command()
@click.option("--session", help="Conversation to open (default: the last one).")
@click.option(
    "--watch",
    "folders",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Keep this folder in sync while the chat is open (repeatable; setting ingest.watch).",
)
@pass_app
def chat(app: AppContext, session: str | None, folders: tuple[Path, ...] = ()) -> None:
    """Open the chat: answers with sources, and the agents' trace, live."""
    from ..tui.app import OpenbookApp

    extra = {"ingest": {"watch": [str(f.resolve()) for f in folders]}} if folders else None
    OpenbookApp(app.settings(extra), session=session).run()
