"""``openbook quickstart`` (what plain ``openbook`` runs until the chat app lands): make sure the
database runs, ingest the bundled sample documents the first time, and answer one search."""

from __future__ import annotations

import click

from .. import library
from .common import AppContext, emit_json, is_tty, json_option, open_store, pass_app
from .library_cmds import print_report

DEFAULT_QUESTION = "Why does Venus have such a high surface temperature?"


@click.command()
@click.option("-q", "--question", default=DEFAULT_QUESTION, show_default=True)
@click.option("-k", "k", default=3, show_default=True, help="How many passages to show.")
@json_option
@pass_app
def quickstart(app: AppContext, question: str, k: int, as_json: bool) -> None:
    """Set up on first run (sample docs) and run one search over the library."""
    from ..ingest.pipeline import ingest_samples_if_empty
    from .progress import IngestProgress

    settings = app.settings()
    with open_store(settings, with_embedder=True) as (store, embedder):
        with IngestProgress(enabled=is_tty() and not as_json) as bar:
            report = ingest_samples_if_empty(store, embedder, settings.ingest, progress=bar)
        if report and not as_json:
            click.echo("First run: added the bundled sample documents (the solar system).")
            print_report(report)
        hits = library.nearest(store, embedder.embed_batch([question])[0], k)
        stats = library.stats(store)
    if as_json:
        emit_json(
            {
                "ingested_samples": report.as_dict() if report else None,
                "documents": stats["documents"],
                "question": question,
                "results": [
                    {
                        "source": h["source"],
                        "title": h["title"],
                        "distance": h["distance"],
                        "text": h["text"],
                    }
                    for h in hits
                ],
            }
        )
        return
    click.echo(f"\nLibrary: {stats['documents']} documents, {stats['chunks']} chunks.")
    click.echo(f"Question: {question}\n")
    for i, h in enumerate(hits, 1):
        section = h["metadata"].get("section", "")
        click.echo(
            f"[{i}] {h['title']}{' — ' + section if section else ''}  (cosine distance {h['distance']:.3f})"
        )
        click.echo(f"    {h['source']}")
        snippet = " ".join(h["text"].split())
        click.echo(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}\n")
    click.echo("Add your own documents with: openbook ingest PATH   (see openbook --help)")
