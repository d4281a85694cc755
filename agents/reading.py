"""The rewrite that a *reading* rewriter makes from the hit it picked among the question's first
hits: the hit's rarest words that the question lacks as keywords, and the hit's sentence that best
matches the question, with the sentence after it, as the passage. Copying the library's own words
is what a 135M model cannot do from the question alone (docs/benchmarks.md: "does a learned rewriter pay?");
what it learns is which hit to copy (``openbook finetune rewriter --method pick``)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .kit.words import tokenize

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
PASSAGE_CHARS = 440  # RewriteOutput.hypothetical_answer holds 500
KEYWORDS = 6

Rarity = Callable[[list[str]], dict[str, float]]  # BM25 tokens -> the library's idf


def sentences(text: str) -> list[str]:
    """The text's sentences of four words or more (the whole text when it has none)."""
    found = [s.strip() for s in SENTENCE.split(" ".join(text.split())) if len(s.split()) >= 4]
    return found or [" ".join(text.split())]


def clip(text: str, limit: int = PASSAGE_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut if cut else text[:limit]


def passage_from(text: str, question: str) -> str:
    """The sentence sharing most words with the question (the earliest on ties), and the next."""
    sents = sentences(text)
    asked = set(tokenize(question))
    overlap = [len(asked & set(tokenize(s))) for s in sents]
    best = max(range(len(sents)), key=lambda i: (overlap[i], -i))
    return clip(" ".join(sents[best : best + 2]))


def keywords_from(text: str, question: str, rarity: Rarity) -> str:
    """The text's ``KEYWORDS`` rarest words in the library (highest idf, earliest on ties) that
    the question does not already have, as written in the text (lower-cased)."""
    asked = set(tokenize(question))
    seen: dict[str, str] = {}  # word -> its BM25 token
    for match in WORD.finditer(text):
        word = match.group().casefold()
        toks = tokenize(word)
        if len(word) < 3 or len(toks) != 1 or toks[0] in asked or word in seen:
            continue
        seen[word] = toks[0]
    idf = rarity(sorted(set(seen.values())))
    ranked = sorted(seen, key=lambda w: -idf.get(seen[w], 0.0))  # stable: the earliest on ties
    chosen: list[str] = []
    used: set[str] = set()
    for w in ranked:  # one surface form per token: "moon" and "moons" say the same thing
        if seen[w] not in used:
            chosen.append(w)
            used.add(seen[w])
        if len(chosen) == KEYWORDS:
            break
    return " ".join(chosen)
