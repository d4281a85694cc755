"""An evaluation dataset lives in a database schema of its own, named by the dataset, the
chunking and the embedding model: built once, reused while they are unchanged, and never the
user's library."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from openbook.db import meta

from .. import library
from ..embeddings import Embedder
from ..ingest.parse import parse_text, signature
from ..ingest.pipeline import IngestReport, QuietProgress, store_parsed
from ..settings import Settings, load_settings
from ..store import Store
from .datasets import RetrievalDataset
from .qa_data import QADataset


def eval_schema(ds: RetrievalDataset, settings: Settings, embedder: Embedder) -> str:
    sig = signature(settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    key = f"{ds.fingerprint}|{sig}|{embedder.identity.model}"
    return "eval_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def ingest_dataset(
    store: Store,
    embedder: Embedder,
    ds: RetrievalDataset,
    settings: Settings,
    say: Callable[[str], None],
) -> None:
    marker = meta.get(store, "eval_dataset")
    if marker and marker.get("fingerprint") == ds.fingerprint:
        return
    sig = signature(settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    known = library.fingerprints(store)
    todo = [d for d in ds.docs if f"{ds.name}:{d}" not in known]
    say(f"Ingesting {len(todo)} documents of {ds.name} into an isolated schema…")
    report, batch = IngestReport(), []
    progress = QuietProgress()
    for n, doc_id in enumerate(todo, 1):
        title, text = ds.docs[doc_id]
        parsed = parse_text(
            text,
            title,
            f"{ds.name}:{doc_id}",
            settings.ingest.chunk_size,
            settings.ingest.chunk_overlap,
        )
        if parsed.chunks:
            batch.append(parsed)
        if sum(len(p.chunks) for p in batch) >= settings.ingest.embed_group or n == len(todo):
            store_parsed(store, embedder, batch, sig, known, report, progress)
            say(f"  {n}/{len(todo)} documents")
    meta.put(store, "eval_dataset", {"fingerprint": ds.fingerprint, "name": ds.name})


def isolated_settings(settings: Settings, schema: str) -> Settings:
    out = load_settings(
        {
            **settings.model_dump(exclude_none=True, mode="json"),
            "database": {**settings.database.model_dump(exclude_none=True, mode="json"), "db_schema": schema},
        }
    )
    if settings.database.url is not None:
        out.database.url = settings.database.url
    return out


def ensure_ingested(
    store: Store, embedder: Embedder, ds: QADataset, settings: Settings, say: Callable[[str], None]
) -> None:
    if ds.docs_dir is None:
        ingest_dataset(store, embedder, ds.as_retrieval(), settings, say)
        return
    marker = meta.get(store, "eval_dataset")
    if marker and marker.get("fingerprint") == ds.fingerprint:
        return
    from ..ingest.pipeline import ingest

    say(f"Ingesting {ds.docs_dir} into an isolated schema…")
    report = ingest(store, embedder, [ds.docs_dir], settings.ingest, prune=True)
    if report.failed:
        say(f"  {len(report.failed)} document(s) could not be read: {report.failed[0].reason}")
    meta.put(store, "eval_dataset", {"fingerprint": ds.fingerprint, "name": ds.name})
