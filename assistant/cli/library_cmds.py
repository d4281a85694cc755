"""Library commands: ingest, status, docs list|show|rm, reembed, db stop."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from .. import library
from ..errors import EmbeddingError
from .common import (
    AppContext,
    emit_json,
    err,
    human_bytes,
    is_tty,
    json_option,
    open_store,
    pass_app,
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--glob", "globs", multiple=True, help="Only files matching this pattern (repeatable).")
@click.option("--prune", is_flag=True, help="Remove documents under PATHS whose files are gone.")
@click.option("--chunk-size", type=int, help="Chunk size in tokens.")
@click.option("--chunk-overlap", type=int, help="Chunk overlap in tokens.")
@click.option("--max-file-mb", type=float, help="Skip files larger than this.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--watch",
    is_flag=True,
    help="Then keep the folders in sync until Ctrl-C: new and changed files are ingested, "
    "deleted ones removed.",
)
@json_option
@pass_app
def ingest(
    app: AppContext,
    paths: tuple[Path, ...],
    globs: tuple[str, ...],
    prune: bool,
    chunk_size: int | None,
    chunk_overlap: int | None,
    max_file_mb: float | None,
    no_progress: bool,
    watch: bool,
    as_json: bool,
) -> None:
    """Add or update documents from files and folders (md, txt, rst, html, pdf, code)."""
    from ..ingest.pipeline import ingest as run_ingest
    from .progress import IngestProgress

    extra = {
        "ingest": {
            k: v
            for k, v in {
                "chunk_size": chunk_size,
                "chunk_overlap": chunk_overlap,
                "max_file_mb": max_file_mb,
            }.items()
            if v is not None
        }
    }
    settings = app.settings(extra)
    if watch:
        watch_folders(settings, list(paths), list(globs), as_json)
        return
    with open_store(settings, with_embedder=True) as (store, embedder):
        with IngestProgress(enabled=is_tty() and not no_progress and not as_json) as bar:
            report = run_ingest(
                store,
                embedder,
                list(paths),
                settings.ingest,
                globs=list(globs),
                prune=prune,
                progress=bar,
            )
        if not report.interrupted and (report.added or report.updated or report.removed):
            from ..retrieval.retriever import Retriever
            from ..tuning.tune import rerun_if_stale

            rerun_if_stale(Retriever(store, embedder, settings.retrieval), err)
    if as_json:
        emit_json(report.as_dict())
    else:
        print_report(report)
    if report.interrupted:
        raise SystemExit(130)


def watch_folders(settings: Any, paths: list[Path], globs: list[str], as_json: bool) -> None:
    """``ingest --watch``: sync the folders, then follow their changes until Ctrl-C (a line,
    or a JSON object per line with --json, for every sync that changed something)."""
    import json
    import threading

    from ..ingest.watch import FolderWatcher, Sync
    from ..retrieval.retriever import Retriever
    from ..tuning.tune import rerun_if_stale

    with open_store(settings, with_embedder=True) as (store, embedder):
        retriever = Retriever(store, embedder, settings.retrieval)

        def show(sync: Sync) -> None:
            if as_json:
                click.echo(json.dumps({"at": sync.at.isoformat(), **sync.report.as_dict()}))
            else:
                click.echo(f"{sync.at.astimezone():%H:%M:%S}  {sync.line()}")
                for problem in sync.report.failed:
                    click.echo(f"  {problem.path}: {problem.reason}")
            if sync.changed:
                rerun_if_stale(retriever, err)

        watcher = FolderWatcher(store, embedder, paths, settings.ingest, globs=globs, on_sync=show)
        if not as_json:
            err(f"Watching {', '.join(str(r) for r in watcher.roots)} (Ctrl-C stops).")
        with terminate_as_interrupt():
            watcher.run(threading.Event())
    if not as_json:
        err("Stopped watching.")


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a service manager stopping the watcher) stops it as Ctrl-C does: the document
    being written is finished or dropped whole, and the folders are marked no longer watched."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def print_report(report) -> None:  # noqa: ANN001
    rate = report.chunks / report.seconds if report.seconds else 0.0
    click.echo(
        f"Added {len(report.added)}, updated {len(report.updated)}, unchanged {report.unchanged}, "
        f"removed {len(report.removed)} documents; {report.chunks} chunks in "
        f"{report.seconds:.1f}s ({rate:.1f} chunks/s)."
    )
    if report.waited:
        click.echo(
            f"{report.waited} files were being ingested by another openbook process: "
            "waited for it, then counted them as they were found."
        )
    if report.unsupported:
        click.echo(f"Skipped {report.unsupported} files of unsupported types.")
    for source in report.removed:
        click.echo(f"  removed  {source}")
    if report.failed:
        click.echo(f"{len(report.failed)} files could not be ingested:")
        for problem in report.failed:
            click.echo(f"  {problem.path}: {problem.reason}")
    if report.interrupted:
        err("Interrupted: finished documents are stored; nothing is half-stored.")


@click.command()
@json_option
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Database location, documents, chunks, embedding model, size on disk."""
    from ..embeddings import make_embedder
    from ..store import Store

    settings = app.settings()
    configured = embedder = None
    try:
        embedder = make_embedder(settings.embedding, settings.ollama)
        configured = embedder.identity
    except EmbeddingError as exc:
        err(f"Warning: {exc}")
    from ..ingest.watch import watched

    with Store(settings, embedding=configured) as store:
        info = library.stats(store)
        folders = watched(store)
        stored = store.embedding_identity()
        in_force: dict[str, Any] = {}
        if embedder is not None:
            from ..retrieval.retriever import Retriever

            retriever = Retriever(store, embedder, settings.retrieval)
            fusion, fusion_from = retriever.fusion()
            gate, gate_from = retriever.gate(settings.pipeline.max_distance)
            hits, rank, order, reading_from = retriever.reading(settings.pipeline)
            in_force = {
                "fusion": fusion.label(),
                "fusion_from": fusion_from,
                "gate": gate,
                "gate_from": gate_from,
                "read_hits": hits,
                "read_anchor_rank": rank,
                "read_order_weight": order,
                "reading_from": reading_from,
            }
        data = {
            "database": store.where(),
            "schema": store.schema,
            **info,
            "embedding_model": stored.model if stored else None,
            "embedding_dimension": stored.dimension if stored else None,
            "configured_embedding_model": configured.model if configured else None,
            "embedding_mismatch": bool(stored and configured and stored != configured),
            **in_force,
            "watched_folders": folders,
        }
    if as_json:
        emit_json(data)
        return
    click.echo(f"Database:   {data['database']} (schema {data['schema']})")
    click.echo(f"Documents:  {data['documents']}  ({human_bytes(data['source_bytes'])} of sources)")
    click.echo(f"Chunks:     {data['chunks']}")
    click.echo(f"Embeddings: {data['embedding_model']} (dimension {data['embedding_dimension']})")
    click.echo(f"On disk:    {human_bytes(data['database_bytes'])}")
    if in_force:
        click.echo(f"Fusion:     {data['fusion']} ({data['fusion_from']})")
        click.echo(f"Gate:       a question's nearest chunk within {data['gate']:.3f} ({data['gate_from']})")
        click.echo(
            f"Reading:    a reading rewriter reads {data['read_hits']} hits, its order of them weighted "
            f"{data['read_order_weight']:g}, the question's top hit kept at rank <= "
            f"{data['read_anchor_rank']} ({data['reading_from']})"
        )
    for w in folders:
        last = (
            f"last sync {w['last_sync'].astimezone():%Y-%m-%d %H:%M:%S}" if w["last_sync"] else "never synced"
        )
        click.echo(f"Watched:    {w['path']} — {w['state']}, {last}")
    if data["embedding_mismatch"]:
        click.echo(
            f"Warning: configured embedding model is {data['configured_embedding_model']}; "
            "run `openbook reembed` to switch the library to it."
        )


@click.group()
def docs() -> None:
    """List, show and remove documents."""


@docs.command("list")
@json_option
@pass_app
def docs_list(app: AppContext, as_json: bool) -> None:
    """All documents in the library."""
    with open_store(app.settings()) as (store, _):
        rows = library.list_documents(store)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("The library is empty. Add documents with: openbook ingest PATH")
        return
    for r in rows:
        click.echo(f"{r['id']:>5}  {r['kind']:<8} {r['chunk_count']:>4} chunks  {r['source']}")


@docs.command("show")
@click.argument("ref")
@click.option("--chunks/--no-chunks", default=True, help="Print the document's chunks.")
@json_option
@pass_app
def docs_show(app: AppContext, ref: str, chunks: bool, as_json: bool) -> None:
    """One document (by id or path) and its chunks."""
    with open_store(app.settings()) as (store, _):
        doc = library.find_document(store, ref)
        parts = library.chunks_of(store, doc["id"]) if chunks else []
    if as_json:
        emit_json({**doc, "chunks": parts})
        return
    click.echo(f"#{doc['id']} {doc['title']}")
    click.echo(f"  source:  {doc['source']}")
    click.echo(f"  kind:    {doc['kind']}, {human_bytes(doc['size_bytes'])}, {doc['chunk_count']} chunks")
    click.echo(f"  hash:    {doc['content_hash'][:16]}…  updated {doc['updated_at']:%Y-%m-%d %H:%M}")
    for c in parts:
        where = ", ".join(f"{k} {v}" for k, v in c["metadata"].items())
        click.echo(f"\n[{c['ordinal']}] {where}\n{c['text']}")


@docs.command("rm")
@click.argument("refs", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_app
def docs_rm(app: AppContext, refs: tuple[str, ...], yes: bool, as_json: bool) -> None:
    """Remove documents (by id or path) and their chunks."""
    with open_store(app.settings()) as (store, _):
        found = [library.find_document(store, ref) for ref in refs]
        if not yes and not as_json and is_tty():
            names = "\n  ".join(d["source"] for d in found)
            click.confirm(f"Remove {len(found)} document(s)?\n  {names}\n", abort=True)
        removed = library.delete_documents(store, [d["id"] for d in found])
    if as_json:
        emit_json({"removed": removed})
    else:
        for source in removed:
            click.echo(f"Removed {source}")


@click.command()
@json_option
@pass_app
def reembed(app: AppContext, as_json: bool) -> None:
    """Re-embed every chunk with the configured embedding model."""
    from ..reembed import reembed as run_reembed
    from ..store import Store

    settings = app.settings()
    with open_store(settings, with_embedder=True) as (store, embedder):
        assert isinstance(store, Store)
        before = store.embedding_identity()

        def show(done: int, total: int) -> None:
            if not as_json:
                click.echo(f"\rEmbedded {done}/{total} chunks", nl=False, err=True)

        count = run_reembed(store, embedder, show)
    if not as_json:
        err("")
    result = {
        "chunks": count,
        "from": before.model if before else None,
        "to": embedder.identity.model,
        "dimension": embedder.identity.dimension,
    }
    if as_json:
        emit_json(result)
    else:
        click.echo(f"Re-embedded {count} chunks with {result['to']} (dimension {result['dimension']}).")


@click.group()
def db() -> None:
    """The embedded database server."""


@db.command("stop")
@json_option
@pass_app
def db_stop(app: AppContext, as_json: bool) -> None:
    """Stop the embedded server now (it also stops when the last openbook exits)."""
    from ..embedded_pg import server_for

    settings = app.settings()
    if settings.database.external:
        raise click.UsageError("An external database is configured; there is no server to stop.")
    server = server_for(settings.database.embedded_data_dir())
    was_running = server.stop()
    if as_json:
        emit_json({"stopped": was_running, "data_dir": str(server.data_dir)})
    else:
        click.echo("Stopped." if was_running else "The embedded server was not running.")
