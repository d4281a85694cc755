"""``openbook chat`` (and plain ``openbook``): the terminal chat app."""

from __future__ import annotations

from pathlib import Path

import click

from .common import AppContext, pass_app, watch_option, watched


@click.command()
@click.option("--session", help="Conversation to open (default: the last one).")
@watch_option("the chat is open")
@pass_app
def chat(app: AppContext, session: str | None, folders: tuple[Path, ...] = ()) -> None:
    """Open the chat: answers with sources, and the agents' trace, live."""
    from ..tui.app import OpenbookApp

    OpenbookApp(app.settings(watched(folders)), session=session).run()
