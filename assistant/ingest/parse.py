"""Turn one file into chunks with LlamaIndex readers and node parsers (no hand-written chunker).

Raises ``BadFile`` with a reason a person can act on; the pipeline lists those at the end.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .discover import CODE, kind_of

PARSER_VERSION = "1"
_SNIFF = 8192


class BadFile(Exception):
    """A file that cannot be ingested; ``str(exc)`` is the reason."""


@dataclass
class Chunk:
    text: str
    metadata: dict[str, Any]


@dataclass
class ParsedFile:
    path: Path
    kind: str
    title: str
    content_hash: str
    size_bytes: int
    mtime: float
    chunks: list[Chunk] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where it came from; the file path unless set (e.g. "nyt:12-3")

    def __post_init__(self) -> None:
        self.source = self.source or str(self.path)


def signature(chunk_size: int, chunk_overlap: int) -> str:
    """What a document's chunks depend on besides its bytes; a change re-chunks it."""
    return f"parser={PARSER_VERSION};size={chunk_size};overlap={chunk_overlap}"


def fingerprint(path: Path, max_bytes: int) -> tuple[str, int, float]:
    """(sha256, size, mtime) of a file, or BadFile."""
    try:
        st = path.stat()
        if st.st_size > max_bytes:
            raise BadFile(
                f"larger than the size limit "
                f"({st.st_size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB; "
                "raise ingest.max_file_mb)"
            )
        if st.st_size == 0:
            raise BadFile("empty file")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except PermissionError as exc:
        raise BadFile("permission denied") from exc
    except OSError as exc:
        raise BadFile(f"unreadable: {exc.strerror or exc}") from exc
    return digest.hexdigest(), st.st_size, st.st_mtime


def _check_text(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    if b"\x00" in head:
        raise BadFile("binary file (contains NUL bytes)")
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not valid UTF-8 text (byte {exc.start}); convert it to UTF-8") from exc


@cache
def _splitter(chunk_size: int, chunk_overlap: int):  # noqa: ANN202
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2))


def _read(path: Path, kind: str) -> list[Any]:
    """LlamaIndex Documents for one file."""
    if kind == "pdf":
        from llama_index.readers.file import PDFReader

        with path.open("rb") as fh:
            if not fh.read(5).startswith(b"%PDF"):
                raise BadFile("not a PDF file (no %PDF header)")
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            return PDFReader(return_full_document=False).load_data(path)
        except Exception as exc:  # pypdf raises many types for broken files
            raise BadFile(f"unreadable PDF: {exc}") from exc
    _check_text(path)
    if kind == "html":
        from llama_index.readers.file import HTMLTagReader

        return HTMLTagReader(tag="body").load_data(path)
    from llama_index.readers.file import FlatReader

    return FlatReader().load_data(path)


def _title(path: Path, kind: str, text: str) -> str:
    if kind == "markdown":
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    if kind == "html":
        import re

        raw = path.read_text(encoding="utf-8", errors="replace")
        m = re.search(r"<title[^>]*>(.*?)</title>", raw, re.I | re.S)
        if m and m.group(1).strip():
            return " ".join(m.group(1).split())
    return path.stem.replace("_", " ").replace("-", " ")


def parse_file(path: Path, chunk_size: int, chunk_overlap: int, max_bytes: int) -> ParsedFile:
    kind = kind_of(path)
    if kind is None:
        raise BadFile(f"unsupported file type {path.suffix or '(none)'}")
    content_hash, size, mtime = fingerprint(path, max_bytes)
    try:
        docs = _read(path, kind)
    except BadFile:
        raise
    except PermissionError as exc:
        raise BadFile("permission denied") from exc
    except UnicodeDecodeError as exc:
        raise BadFile("not valid UTF-8 text") from exc
    except OSError as exc:
        raise BadFile(f"unreadable: {exc.strerror or exc}") from exc
    full_text = "\n".join(d.text for d in docs)
    if not full_text.strip():
        reason = "no extractable text (scanned PDF?)" if kind == "pdf" else "empty (no text)"
        raise BadFile(reason)
    parsed = ParsedFile(path, kind, _title(path, kind, full_text), content_hash, size, mtime)
    if kind == "code":
        parsed.metadata["language"] = CODE[path.suffix.lower()]
    parsed.chunks = _chunk(docs, kind, chunk_size, chunk_overlap)
    return parsed


def parse_text(
    text: str, title: str, source: str, chunk_size: int, chunk_overlap: int, kind: str = "text"
) -> ParsedFile:
    """Chunk text that did not come from a file (evaluation datasets, imports)."""
    from llama_index.core import Document

    parsed = ParsedFile(
        Path(source),
        kind,
        title,
        hashlib.sha256(text.encode()).hexdigest(),
        len(text),
        0.0,
        source=source,
    )
    parsed.chunks = _chunk([Document(text=text)], kind, chunk_size, chunk_overlap)
    return parsed


def _chunk(docs: list[Any], kind: str, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    from llama_index.core import Document

    splitter = _splitter(chunk_size, chunk_overlap)
    clean = [Document(text=d.text, metadata=_keep(d.metadata)) for d in docs if d.text.strip()]
    if kind == "markdown":
        from llama_index.core.node_parser import MarkdownNodeParser

        sections = MarkdownNodeParser(include_metadata=True).get_nodes_from_documents(clean)
        nodes = splitter.get_nodes_from_documents(
            [Document(text=n.get_content(), metadata=_section_meta(n)) for n in sections]
        )
    else:
        nodes = splitter.get_nodes_from_documents(clean)
    chunks = []
    for node in nodes:
        text = node.get_content().strip()
        if text:
            chunks.append(Chunk(text, _keep(node.metadata)))
    return chunks


def _section_meta(node: Any) -> dict[str, Any]:
    """Markdown section path: the parent headings plus the section's own heading."""
    parts = [p for p in str(node.metadata.get("header_path", "")).strip("/").split("/") if p]
    first = node.get_content().lstrip().split("\n", 1)[0]
    if first.startswith("#"):
        parts.append(first.lstrip("#").strip())
    return {"section": " > ".join(parts)} if parts else {}


def _keep(meta: dict[str, Any]) -> dict[str, Any]:
    """Only the location metadata we cite with (page, section); not file paths or dates."""
    out: dict[str, Any] = {}
    if meta.get("page_label"):
        out["page"] = str(meta["page_label"])
    header = meta.get("header_path")
    if header and header != "/":
        out["section"] = " > ".join(p for p in str(header).strip("/").split("/") if p)
    if meta.get("section"):
        out["section"] = meta["section"]
    if meta.get("page"):
        out["page"] = meta["page"]
    return out
