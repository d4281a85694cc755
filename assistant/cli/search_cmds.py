"""``openbook search``: hybrid retrieval from the command line."""

from __future__ import annotations

import click

from .common import AppContext, emit_json, json_option, open_store, pass_app


def _leg(rank: int | None, value: float | None, fmt: str) -> str:
    return "—" if rank is None else f"#{rank} ({fmt.format(value)})"


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "vector"]), help="Default: hybrid.")
@click.option("-k", "k", type=int, help="How many chunks (default: retrieval.k).")
@click.option("--doc", "doc_ids", type=int, multiple=True, help="Only this document id (repeatable).")
@click.option("--path", "prefixes", multiple=True, help="Only documents under this path (repeatable).")
@json_option
@pass_app
def search(
    app: AppContext,
    query: tuple[str, ...],
    mode: str | None,
    k: int | None,
    doc_ids: tuple[int, ...],
    prefixes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Search the library: ranked chunks with their BM25, vector and fused scores."""
    import os

    from ..retrieval.retriever import Filters, Retriever

    text = " ".join(query).strip()
    if not text:
        raise click.UsageError("The search text is empty.")
    settings = app.settings()
    filters = Filters(document_ids=list(doc_ids), path_prefixes=[os.path.abspath(p) for p in prefixes])
    with open_store(settings, with_embedder=True) as (store, embedder):
        store.check_embedding(embedder.identity)
        retriever = Retriever(store, embedder, settings.retrieval)
        hits = retriever.retrieve(text, k, mode=mode, filters=filters)  # type: ignore[arg-type]
    if as_json:
        emit_json(
            {
                "query": text,
                "mode": mode or settings.retrieval.mode,
                "results": [h.model_dump() for h in hits],
            }
        )
        return
    if not hits:
        click.echo("No matching chunks. (Is the library empty? See `openbook status`.)")
        return
    for h in hits:
        where = h.location()
        click.echo(
            f"{h.rank:>2}. {h.title}{' — ' + where if where else ''}   "
            + (f"rerank {h.rerank_score:+.2f} (fused #{h.fused_rank}) · " if h.fused_rank else "")
            + f"fused {h.fused_score:.4f} · bm25 {_leg(h.bm25_rank, h.bm25_score, '{:.2f}')} · "
            f"vector {_leg(h.vector_rank, h.vector_distance, 'dist {:.3f}')}"
        )
        click.echo(f"    {h.source}")
        snippet = " ".join(h.text.split())
        click.echo(f"    {snippet[:240]}{'…' if len(snippet) > 240 else ''}")
