"""``openbook config``: the effective settings and where each came from."""

from __future__ import annotations

import click

from .. import paths
from ..settings import explain
from .common import AppContext, emit_json, json_option, pass_app


@click.command()
@json_option
@pass_app
def config(app: AppContext, as_json: bool) -> None:
    """Show the effective settings and where each value came from."""
    rows = explain(app.overrides)
    if as_json:
        emit_json(
            {
                "config_file": str(paths.config_file()),
                "settings": [{"name": n, "value": v, "source": s} for n, v, s in rows],
            }
        )
        return
    click.echo(f"Settings file: {paths.config_file()}")
    width = max(len(n) for n, _, _ in rows)
    for name, value, source in rows:
        shown = "(unset)" if value is None else value
        click.echo(f"  {name:<{width}}  {shown!s:<40}  [{source}]")
