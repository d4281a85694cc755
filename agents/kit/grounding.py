"""How an answer rests on its passages, by rule (no model): the sentences an explanatory
question is answered with (``explain``), and the share of the question's words around an answer
(``support_of`` for a copied span, ``explained_share`` for an explanation) that the answer step's
support check compares with ``pipeline.support``."""

from __future__ import annotations

import re

from .evidence import CITE, Passage, sentences_of, uncited
from .words import tokenize

CAUSAL = re.compile(
    r"\b(because|due to|caus(e|es|ed|ing)|since|as a result|so that|therefore|thus|leads? to|led to|"
    r"results? in|resulted in|in order to|allows?|enables?|traps?|makes?|made|"
    r"comes? from|came from|stems? from|owing to|thanks to)\b",
    re.I,
)
MAX_EXPLANATION_WORDS = 70


def explain(question: str, answer: str, passages: list[Passage]) -> tuple[str, str | None]:
    """An explanatory question's answer, from the passages given, verbatim and cited: the
    sentence that shares the most words with the question (a tie goes to the one holding the
    reader's span, then to the earlier passage and sentence)
    and, when that sentence states a fact without its cause, the sentence after it. (A 135M
    reader answers "why" with a span, and often from the wrong sentence: "it is farther from the
    Sun" for "Why is Venus so hot?"; choosing the sentence by the question's words holds the gold
    explanation far more often: docs/benchmarks.md, "Explanatory questions".) When no sentence
    shares a word with the question, the sentence holding the reader's span is used. Returns the
    answer unchanged, and None, when neither finds a sentence; else the new answer and the span."""
    span = " ".join(CITE.sub("", answer).split()).strip()
    words, asked = set(tokenize(span)), set(tokenize(question))
    sentences = {p.n: sentences_of(p.text) or [" ".join(p.text.split())] for p in passages}
    best: tuple[float, int, int] | None = None  # (score, passage n, sentence index)
    for p in passages:
        for i, sentence in enumerate(sentences[p.n]):
            shared: float = len(shared_words(asked, tokenize(sentence)))
            if shared and span:  # a tie goes to the sentence holding the reader's span
                shared += 0.5 * _verbatim(span, sentence)
            if shared and (best is None or shared > best[0]):
                best = (shared, p.n, i)
    if best is None and words:  # the question's words are nowhere: the sentence holding the span
        cited = [int(n) for n in CITE.findall(answer)]
        for pool in ([p for p in passages if p.n in cited], passages):
            best = _holding(span, words, pool, sentences)
            if best is not None and best[0] >= 0.5:
                break
        best = best if best is not None and best[0] >= 0.5 else None
    if best is None:
        return answer, None
    _score, n, i = best
    chosen = [sentences[n][i]]
    following = sentences[n][i + 1] if i + 1 < len(sentences[n]) else None
    if following and not CAUSAL.search(chosen[0]):
        if len((chosen[0] + " " + following).split()) <= MAX_EXPLANATION_WORDS:
            chosen.append(following)
    text = " ".join(chosen).strip()
    return f"{text} [{n}]", span or None


def _holding(
    span: str, words: set[str], pool: list[Passage], sentences: dict[int, list[str]]
) -> tuple[float, int, int] | None:
    """(share of the span's words, passage n, sentence index) of the sentence that holds most."""
    best: tuple[float, int, int] | None = None
    for p in pool:
        for i, sentence in enumerate(sentences[p.n]):
            share = 1.0 if _verbatim(span, sentence) else len(words & set(tokenize(sentence))) / len(words)
            if best is None or share > best[0]:
                best = (share, p.n, i)
    return best


def _verbatim(span: str, sentence: str) -> bool:
    return span.lower().rstrip(".") in " ".join(sentence.lower().split())


def explained_share(answer: str, question: str) -> float | None:
    """The share of the question's words an explanatory answer's sentences hold (None: the
    question has none)."""
    asked = set(tokenize(question))
    return len(shared_words(asked, tokenize(uncited(answer)))) / len(asked) if asked else None


def shared_words(asked: set[str], tokens: list[str]) -> set[str]:
    """The question's words (BM25 tokens) a text holds: the same word, or one it begins (a
    question's "hot" is in "hottest", its "rotat" in "rotation")."""
    have = set(tokens)
    return {w for w in asked if w in have or (len(w) >= 3 and any(t.startswith(w) for t in have))}


def support_of(
    answer: str, passages: list[Passage], question: str, sources: list[Passage] | None = None
) -> float | None:
    """For a short answer copied from the evidence: the largest share of the question's words
    (BM25 tokens) found in a sentence that holds the answer, with the sentences beside it and the
    headings of the passage it came from (``sources``, by number: a note's sentence keeps the
    "## Rotation" it was under). None when the answer is not a verbatim copy (a written answer is
    not judged this way)."""
    span = uncited(answer).lower()
    asked = set(tokenize(question))
    if not span or not asked or len(span.split()) > 12:
        return None
    heads = {p.n: headings(p.text) for p in [*passages, *(sources or [])]}
    best: float | None = None
    for p in passages:
        sentences = sentences_of(p.text) or [p.text]
        for i, sentence in enumerate(sentences):
            if span in " ".join(sentence.lower().split()):
                around = set(tokenize(" ".join([heads[p.n], *sentences[max(0, i - 1) : i + 2]])))
                best = max(best or 0.0, len(asked & around) / len(asked))
    return best


def headings(text: str) -> str:
    """A passage's heading lines, without their "#" marks."""
    return " ".join(ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.lstrip().startswith("#"))
