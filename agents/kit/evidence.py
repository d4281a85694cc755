"""Evidence as the agents see it: retrieved chunks (``Hit``), the numbered passages shown to a
model, and the one evidence format every prompt uses.

Evidence is always ``<passage n="N">…</passage>``. Retrieved text is data, never instructions,
so ``fence`` neutralises anything in it that could close or open an evidence block, fake a chat
turn, or forge a citation number."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

TAG = "passage"
CITE = re.compile(r"\[(\d{1,3})\]")  # a citation of passage n: [n]


def uncited(answer: str) -> str:
    """An answer's words without its citations and trailing full stop ("Phobos [1]." -> "Phobos")."""
    return " ".join(CITE.sub("", answer).split()).rstrip(".").strip()


class Filters(BaseModel):
    """Restrict retrieval to some documents: by id, or by source path prefix."""

    document_ids: list[int] = Field(default_factory=list)
    path_prefixes: list[str] = Field(default_factory=list)

    def active(self) -> bool:
        return bool(self.document_ids or self.path_prefixes)


class Hit(BaseModel):
    """One retrieved chunk with where it ranked in each retrieval leg."""

    chunk_id: int
    document_id: int
    source: str
    title: str
    ordinal: int
    text: str
    metadata: dict[str, Any]
    rank: int
    fused_score: float
    bm25_rank: int | None = None
    bm25_score: float | None = None
    vector_rank: int | None = None
    vector_distance: float | None = None
    matched_queries: list[int] = Field(default_factory=list)
    rerank_score: float | None = None  # the cross-encoder's logit (None: not reranked)
    fused_rank: int | None = None  # the rank fusion gave it, before the reranker (None: not reranked)

    def location(self) -> str:
        parts = [f"{k} {v}" for k, v in self.metadata.items() if k in ("page", "section")]
        return ", ".join(parts)


class Passage(BaseModel):
    n: int  # the number the model cites, [n]
    text: str = Field(max_length=4000)
    source: str = ""


def number(hits: list[Hit]) -> list[Passage]:
    """Passages [1..N] for hits in the order given, text fenced."""
    return [Passage(n=i, text=fence(h.text[:4000]), source=h.source) for i, h in enumerate(hits, 1)]


# Anything that looks like a markup tag an evidence block or a chat template could use.
_TAGLIKE = re.compile(
    r"<\s*/?\s*(passage|note|evidence|document|context|system|assistant|user|im_start|im_end|"
    r"\|im_start\||\|im_end\||s)\b[^>]*>?",
    re.I,
)
_SPECIAL = re.compile(r"<\|[^|>]{1,40}\|>")  # <|im_start|>, <|endoftext|>, ...


_ROLE_MARKER = re.compile(r"(?im)^(\s*)(system|assistant|user|instruction|instructions)\s*:")
_INSTRUCTION = re.compile(
    r"(?i)\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|prompts?|rules)\b|"
    r"^\s*(system|assistant|user)\s*:|\(quoted (system|assistant|user|instructions?) text\)|"
    r"\b(reply|respond|answer)\b.{0,20}\bonly with\b|"
    r"\bthe answer to (every|any|all) questions?\b|\byou are now\b|\bnew instructions\b"
)


def fence(text: str) -> str:
    """Retrieved text made inert inside an evidence block: tag-like sequences lose their angle
    brackets (shown as ‹…›), bracketed numbers lose their brackets (``[2]`` → ``(2)``) and a
    line that poses as a chat turn (``SYSTEM:``) is marked as quoted, so a document cannot close
    its block, open a new numbered one, cite another passage, or speak as the system."""
    text = _SPECIAL.sub(lambda m: "‹" + m.group(0)[1:-1] + "›", text)
    text = _TAGLIKE.sub(lambda m: "‹" + m.group(0).strip("<>").strip() + "›", text)
    text = _ROLE_MARKER.sub(lambda m: f"{m.group(1)}(quoted {m.group(2).lower()} text)", text)
    return CITE.sub(r"(\1)", text)


def looks_like_instruction(sentence: str) -> bool:
    """Whether a sentence of a document addresses the assistant rather than stating a fact
    ("ignore previous instructions", "SYSTEM: …", "reply only with …"). Such sentences are
    never picked as facts for the answer."""
    return bool(_INSTRUCTION.search(sentence))


_LEAKED = re.compile(r"</?\s*(passage|note)\b[^>]*>?", re.I)


def strip_leaked_tags(text: str) -> tuple[str, int]:
    """An answer with any echoed evidence tags removed, and how many were removed."""
    cleaned, count = _LEAKED.subn("", text)
    return (" ".join(cleaned.split()) if count else text), count


def sentences_of(text: str) -> list[str]:
    """The sentences of a passage, without headings, without a line that poses as a chat turn
    (all of it), and without sentences that address the assistant."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith(("#", "(quoted "))]
    flat = " ".join(" ".join(lines).split())
    sentences: list[str] = []
    for part in _SENTENCE_END.split(flat):
        if sentences and _ABBREVIATION.search(sentences[-1]) and part.split(" ", 1)[0] not in _STARTERS:
            sentences[-1] += " " + part  # "U.S. Naval Captain Samuel C. Reid": one sentence
        else:
            sentences.append(part)
    return [s for s in sentences if len(s) > 15 and not looks_like_instruction(s)]


# a sentence ends at . ! or ? (a closing quote may follow) before a capital or a digit (an opening
# quote may come first): "… an existing one. “We’re in …" is two sentences
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’]))\s+(?=[\"“‘]?[A-Z0-9])")
# a period that ends an abbreviation, not a sentence: initials and dotted letters ("C.", "U.S."),
# titles, months and the like ("Dr.", "St.", "Inc.", "Jan.") — unless the next word starts a
# sentence ("… in the U.S. The …")
_ABBREVIATION = re.compile(
    r"(?:^|[\s(])(?:(?:[A-Z]\.)+|(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|Ft|Jr|Sr|Gen|Col|Capt|Lt|Sgt|Gov|Sen|Rep|Rev|"
    r"Hon|Inc|Ltd|Co|Corp|No|Vol|vs|etc|approx|ca|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.)$"
)
_STARTERS = frozenset(
    "The A An It He She They We I This That These Those There In On At But And Or So If When After "
    "Before As Its His Her Their Our".split()
)
