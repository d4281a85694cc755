"""Turn one file into chunks with LlamaIndex readers and node parsers (no hand-written chunker).

Raises ``BadFile`` with a reason a person can act on; the pipeline lists those at the end.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .discover import CODE, kind_of

PARSER_VERSION = "2"  # 2: visible HTML text, BOM decoding, invisible characters, long lines
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


_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
# Zero-width and other invisible format characters, and control characters but tab/newline.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\u00ad\x00-\x08\x0b-\x1f\x7f-\x9f]")
LONG_LINE = 2000  # characters; longer lines are wrapped at sentence ends or spaces before chunking


def decode(path: Path) -> str:
    """A text file's content: UTF-8, or UTF-8/16/32 with a byte-order mark; else BadFile."""
    raw = path.read_bytes()
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(codec.removesuffix("-sig"))
            except UnicodeDecodeError as exc:
                raise BadFile(f"not valid {codec.upper()} text despite its byte-order mark") from exc
    if b"\x00" in raw[:_SNIFF]:
        raise BadFile("binary file, not text (it contains NUL bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not valid UTF-8 text (at byte {exc.start}); convert it to UTF-8") from exc


def visible(text: str) -> str:
    """The text without invisible characters (zero-width, controls), long lines wrapped."""
    text = _INVISIBLE.sub("", text)
    if any(len(line) > LONG_LINE for line in text.splitlines()):
        text = "\n".join(_wrap(line) for line in text.splitlines())
    return text


def _wrap(line: str) -> str:
    """A very long line broken at sentence ends (else spaces, else every LONG_LINE characters),
    so that the sentence splitter sees pieces of a sane size."""
    if len(line) <= LONG_LINE:
        return line
    out, rest = [], line
    while len(rest) > LONG_LINE:
        window = rest[:LONG_LINE]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
        cut = cut + 1 if cut > LONG_LINE // 4 else window.rfind(" ")
        cut = cut if cut > LONG_LINE // 4 else LONG_LINE
        out.append(rest[:cut].strip())
        rest = rest[cut:]
    out.append(rest.strip())
    return "\n".join(p for p in out if p)


def html_text(raw: str) -> str:
    """The visible text of an HTML page: scripts, styles, templates and comments dropped."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    body = soup.body or soup
    return "\n".join(line.strip() for line in body.get_text("\n").splitlines() if line.strip())


@cache
def _splitter(chunk_size: int, chunk_overlap: int):  # noqa: ANN202
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2))


def _read(path: Path, kind: str) -> list[Any]:
    """LlamaIndex Documents for one file."""
    from llama_index.core import Document

    if kind == "pdf":
        from llama_index.readers.file import PDFReader

        with path.open("rb") as fh:
            if not fh.read(5).startswith(b"%PDF"):
                raise BadFile("not a PDF file (no %PDF header)")
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            docs = PDFReader(return_full_document=False).load_data(path)
        except Exception as exc:  # pypdf raises many types for broken files
            logging.getLogger(__name__).debug("PDF %s: %r", path, exc)
            raise BadFile("an unreadable PDF (damaged or truncated)") from exc
        return [Document(text=visible(d.text), metadata=d.metadata) for d in docs]
    text = decode(path)
    if kind == "html":
        text = html_text(text)
    return [Document(text=visible(text), metadata={})]


def _title(path: Path, kind: str, text: str) -> str:
    if kind == "markdown":
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    if kind == "html":
        raw = decode(path)
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
        reason = (
            "no extractable text (a scanned PDF?)"
            if kind == "pdf"
            else "empty: no visible text (only whitespace, control or zero-width characters, or markup)"
        )
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
