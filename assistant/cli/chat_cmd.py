"""``openbook chat`` (and plain ``openbook``): the terminal chat app."""

from __future__ import annotations

import click

from .common import AppContext, pass_app


@click.command()
@click.option("--session", help="Conversation to open (default: the last one).")
@pass_app
def chat(app: AppContext, session: str | None) -> None:
    """Open the chat: answers with sources, and the agents' trace, live."""
    from ..tui.app import OpenbookApp

    OpenbookApp(app.settings(), session=session).run()
