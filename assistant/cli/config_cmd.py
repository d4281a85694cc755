"""``openbook config``: the effective settings and where each came from."""

from __future__ import annotations

import click

from .. import paths
from ..settings import expert_names, explain
from .common import AppContext, emit_json, json_option, pass_app


@click.command()
@json_option
@pass_app
def config(app: AppContext, as_json: bool) -> None:
    """Show the effective settings and where each value came from: the ones a user sets
    first, then the expert overrides (docs/design.md, "Expert overrides")."""
    rows = explain(app.overrides)
    expert = expert_names()
    if as_json:
        emit_json(
            {
                "config_file": str(paths.config_file()),
                "settings": [{"name": n, "value": v, "source": s, "expert": n in expert} for n, v, s in rows],
            }
        )
        return
    click.echo(f"Settings file: {paths.config_file()}")
    width = max(len(n) for n, _, _ in rows)
    for title, group in (
        ("", [r for r in rows if r[0] not in expert]),
        ("Expert overrides (docs/design.md):", [r for r in rows if r[0] in expert]),
    ):
        if title:
            click.echo(title)
        for name, value, source in group:
            shown = "(unset)" if value is None else value
            click.echo(f"  {name:<{width}}  {shown!s:<40}  [{source}]")
