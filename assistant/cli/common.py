"""Shared CLI plumbing: settings from flags, opening the store, printing JSON or text."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ..settings import Settings, load_settings
from ..store import Store


@dataclass
class AppContext:
    overrides: dict[str, Any] = field(default_factory=dict)
    debug: bool = False

    def settings(self, extra: dict[str, Any] | None = None) -> Settings:
        return load_settings(_deep_merge(self.overrides, extra or {}))


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def set_override(ctx: AppContext, dotted: str, value: Any) -> None:
    if value is None:
        return
    node = ctx.overrides
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


pass_app = click.make_pass_decorator(AppContext, ensure=True)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
half_option = click.option(
    "--half",
    type=click.Choice(["both", "first", "second"]),
    default="both",
    show_default=True,
    help="Only one half of each article's questions (a seeded draw): the corpus fine-tuning "
    "experiment trains on the first half (finetune data) and tests on the second (eval qa).",
)


def qa_sets_option(use: str) -> Any:
    """``--qa`` of the training commands: QA/retrieval sets whose training articles' questions
    they learn from; ``use`` ends the help."""
    return click.option(
        "--qa",
        "datasets",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        help=f"QA/retrieval sets (SQuAD JSON or BEIR folder): questions of their training articles, {use}",
    )


def watch_option(while_: str) -> Any:
    """``--watch FOLDER`` (repeatable): keep folders in sync while ``while_``; read it with
    ``watched``."""
    return click.option(
        "--watch",
        "folders",
        multiple=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help=f"Keep this folder in sync while {while_} (repeatable; setting ingest.watch).",
    )


def watched(folders: tuple[Path, ...]) -> dict[str, Any] | None:
    """The settings override ``--watch`` makes (None: no folders given)."""
    return {"ingest": {"watch": [str(f.resolve()) for f in folders]}} if folders else None


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


@contextmanager
def open_store(settings: Settings, *, with_embedder: bool = False) -> Iterator[tuple[Store, Any]]:
    """The store, plus the configured embedder (whose identity creates a new store)."""
    from ..embeddings import make_embedder

    embedder = make_embedder(settings.embedding, settings.ollama)
    with Store(settings, embedding=embedder.identity) as store:
        yield store, (embedder if with_embedder else None)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def err(message: str) -> None:
    click.echo(message, err=True)


def is_tty() -> bool:
    return sys.stderr.isatty()
