"""Ingestion: discover -> fingerprint -> parse -> embed (batched across files) -> store.

Each document is written in its own transaction after all its chunks are embedded, so Ctrl-C or
a crash at any point leaves every document either fully stored (old or new version) or absent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from openbook.db.locks import IngestLocks

from .. import library
from ..embeddings import Embedder
from ..errors import IngestError
from ..settings import IngestSettings
from ..store import Store
from .discover import Problem, discover
from .parse import BadFile, ParsedFile, fingerprint, parse_file, signature

SLICE = 256  # texts per embedding call inside a group (progress moves after each)


class Progress(Protocol):
    def start(self, total_files: int) -> None: ...
    def embedding(self, chunks: int, sources: list[str]) -> None: ...  # a group is about to be embedded
    def advance(self, files: int = 0, chunks: int = 0) -> None: ...


class QuietProgress:
    """Progress that shows nothing; subclass it to show only some of it."""

    def start(self, total_files: int) -> None:
        pass

    def embedding(self, chunks: int, sources: list[str]) -> None:
        pass

    def advance(self, files: int = 0, chunks: int = 0) -> None:
        pass


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    unsupported: int = 0
    chunks: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    waited: int = 0  # files another ingest was working on: waited for, then checked

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": [{"path": p.path, "reason": p.reason} for p in self.failed],
            "unsupported_skipped": self.unsupported,
            "chunks_written": self.chunks,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "waited_for_other_ingest": self.waited,
        }


def ingest(
    store: Store,
    embedder: Embedder,
    paths: list[Path],
    settings: IngestSettings,
    *,
    globs: list[str] | None = None,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    progress = progress or QuietProgress()
    report = IngestReport()
    started = time.perf_counter()
    found = discover(paths, globs)
    report.failed.extend(found.problems)
    report.unsupported = found.unsupported
    if not found.files and not prune and not found.problems:
        raise IngestError(
            f"No supported files found under {', '.join(str(p) for p in paths)}",
            hint="supported: md, txt, rst, html, pdf and source code; use --glob to choose",
        )
    store.check_embedding(embedder.identity)
    sig = signature(settings.chunk_size, settings.chunk_overlap)
    known = library.fingerprints(store)
    max_bytes = int(settings.max_file_mb * 1_000_000)
    progress.start(len(found.files))
    try:
        with library.ingest_locks(store) as held:
            run = _Run(store, embedder, settings, sig, known, max_bytes, report, progress, held)
            busy: list[Path] = []  # being ingested by another process: left for last
            for path in found.files:
                if held.try_source(str(path)):
                    run.one(path)
                else:
                    busy.append(path)
            run.flush()
            for path in busy:  # wait for the other ingest, then see what it stored
                held.wait_source(str(path))
                report.waited += 1
                now = library.fingerprint_of(store, str(path))
                if now is not None:
                    known[str(path)] = now
                run.one(path)
                run.flush()
        if prune:
            report.removed = prune_missing(store, found.roots, {str(p) for p in found.files})
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Run:
    """One ingest's state: files parsed but not yet stored are embedded and written in groups."""

    store: Store
    embedder: Embedder
    settings: IngestSettings
    sig: str
    known: dict[str, library.Fingerprint]
    max_bytes: int
    report: IngestReport
    progress: Progress
    held: IngestLocks
    pending: list[ParsedFile] = field(default_factory=list)

    def one(self, path: Path) -> None:
        """Skip ``path`` if stored unchanged, else parse it into the pending group."""
        source, report = str(path), self.report
        try:
            digest = fingerprint(path, self.max_bytes)[0]
            if source in self.known and self.known[source] == library.Fingerprint(digest, self.sig):
                report.unchanged += 1
                self.progress.advance(files=1)
                self.held.release(source)
                return
            cfg = self.settings
            parsed = parse_file(path, cfg.chunk_size, cfg.chunk_overlap, self.max_bytes)
        except BadFile as exc:
            report.failed.append(Problem(source, str(exc)))
            self.progress.advance(files=1)
            self.held.release(source)
            return
        self.pending.append(parsed)
        if sum(len(p.chunks) for p in self.pending) >= self.settings.embed_group:
            self.flush()

    def flush(self) -> None:
        r = self
        store_parsed(r.store, r.embedder, r.pending, r.sig, r.known, r.report, r.progress, r.held)


def store_parsed(
    store: Store,
    embedder: Embedder,
    pending: list[ParsedFile],
    sig: str,
    known: dict[str, library.Fingerprint],
    report: IngestReport,
    progress: Progress,
    held: IngestLocks | None = None,
) -> None:
    if not pending:
        return
    texts = [library.embedding_text(p.title, c.text, c.metadata) for p in pending for c in p.chunks]
    vectors = np.zeros((len(texts), embedder.identity.dimension), dtype=np.float32)
    progress.embedding(len(texts), [p.source for p in pending])
    # Longest first, in slices of similar length: as little padding as one big call, and the
    # progress bar moves after every slice.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    for start in range(0, len(order), SLICE):
        idx = order[start : start + SLICE]
        vectors[idx] = embedder.embed_batch([texts[i] for i in idx])
        progress.advance(chunks=len(idx))
    offset = 0
    for parsed in pending:
        n = len(parsed.chunks)
        source = parsed.source
        library.write_document(store, parsed, source, sig, vectors[offset : offset + n])
        offset += n
        (report.updated if source in known else report.added).append(source)
        report.chunks += n
        progress.advance(files=1)
        if held is not None:
            held.release(source)
    pending.clear()


def prune_missing(store: Store, roots: list[Path], present: AbstractSet[str] = frozenset()) -> list[str]:
    """Remove documents under ``roots`` (files or folders) whose files no longer exist."""
    gone: list[int] = []
    for root in roots:
        for row in library.sources_under(store, str(root)):
            if row["source"] not in present and not os.path.exists(row["source"]):
                gone.append(int(row["id"]))
    return library.delete_documents(store, sorted(set(gone)))


def ingest_samples_if_empty(
    store: Store, embedder: Embedder, settings: IngestSettings, progress: Progress | None = None
) -> IngestReport | None:
    """First run: add the bundled sample documents to an empty library (else do nothing)."""
    from .. import paths

    if library.has_chunks(store):  # every stored document has chunks
        return None
    return ingest(store, embedder, [paths.sample_docs_dir()], settings, progress=progress)
