"""The evidence under the answer: for each passage the answer cites, the sentence(s) it rests on,
quoted verbatim from the whole passage, and whether the answer's words are really in them.

No model: the quote of ``[n]`` is the sentence of passage n that holds most of the words of the
answer's sentences citing n (and, for a sentence copied whole, that sentence). When the quotes of
an answer hold less than half of its words, the answer is marked unsupported, so a person sees
it should be checked instead of reading it as sure."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from .kit.evidence import CITE, Passage, sentences_of, strip_leaked_tags
from .kit.step import Step, StepContext, StepSettings, TurnState
from .kit.words import tokenize


class SupportInput(BaseModel):
    question: str = ""
    answer: str
    declined: bool = False
    passages: list[Passage]  # the whole passages the answer's [n] refer to
    pieces: list[str] = Field(default_factory=list)  # a compound question's pieces' answers (claims too)


class Quote(BaseModel):
    n: int
    quote: str  # verbatim from passage n
    holds: float  # share of the words of the answer's sentences citing n that the quote holds


class SupportOutput(BaseModel):
    quotes: list[Quote] = Field(default_factory=list)
    supported: bool = True  # the quotes hold at least ``min_share`` of the answer's words
    disagree: list[Quote] = Field(default_factory=list)  # sentences that say otherwise


class SupportSettings(StepSettings):
    min_share: float = 0.5  # below: the answer's words are not in its evidence (shown as a warning)
    max_quote_sentences: int = 2  # per cited passage
    frame_share: float = 0.6  # a sentence that says the same of the same thing, but another value


def claims(answer: str) -> dict[int, list[str]]:
    """The answer's sentences by the [n] they cite (a sentence citing two passages counts for
    both; sentences citing nothing belong to the next citation, as in "A. B. [1]", or else to
    the last one)."""
    out: dict[int, list[str]] = {}
    pending: list[str] = []
    last: list[int] = []
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", answer.strip()):
        cited = list(dict.fromkeys(int(m) for m in CITE.findall(sentence)))
        text = CITE.sub("", sentence).strip()
        if not cited:
            pending.append(text)
            continue
        for n in cited:
            out.setdefault(n, []).extend([*pending, text])
        pending, last = [], cited
    for n in last:
        out[n].extend(pending)
    return out


def quotes_for(answer: str, passages: list[Passage], max_sentences: int = 2) -> list[Quote]:
    by_n = {p.n: p for p in passages}
    out = []
    for n, said in claims(answer).items():
        if n not in by_n:
            continue
        sentences = sentences_of(by_n[n].text) or [" ".join(by_n[n].text.split())]
        words = set(tokenize(" ".join(said)))
        if not words:
            continue
        scored = sorted(
            ((len(words & set(tokenize(s))), -i, s) for i, s in enumerate(sentences)), reverse=True
        )
        chosen: list[tuple[int, str]] = []
        covered: set[str] = set()
        for _hits, neg_i, sentence in scored[:max_sentences]:
            gain = (words & set(tokenize(sentence))) - covered
            if not gain:
                break
            chosen.append((-neg_i, sentence))
            covered |= gain
        if chosen:
            quote = " ".join(s for _i, s in sorted(chosen))
            out.append(Quote(n=n, quote=quote, holds=round(len(covered) / len(words), 2)))
    return out


def disagreements(
    question: str, answer: str, quotes: list[Quote], passages: list[Passage], frame_share: float = 0.6
) -> list[Quote]:
    """Sentences of the given passages that say the same thing as an answer's quote about the
    same subject but with another value ("The capital of France is Berlin." against "Paris is
    the capital of France."; "Kilimanjaro is 12 metres high." against "… 5,895 metres high."):
    they share most of the quote's words other than the answer's, hold none of the answer's
    words but words of their own, and some of the question's."""
    said = set(tokenize(CITE.sub("", answer)))
    asked = set(tokenize(question))
    # the answer's value: its numbers if it has any ("12 metres high"), else its words that the
    # question does not hold
    key = {w for w in said if any(c.isdigit() for c in w)} or (said - asked)
    if not key or not quotes or key <= {"yes", "no"}:
        return []  # a yes or no is no value another sentence could state differently
    found: list[Quote] = []
    for q in quotes:
        frame = set(tokenize(q.quote)) - key
        # what the quote is about: its names (capitalised words), which the other sentence must
        # name too ("Denali is 6,190 metres high" says nothing against Kilimanjaro's height)
        names = set(tokenize(" ".join(re.findall(r"\b[A-Z][\w'-]*", q.quote)))) - key
        if len(frame) < 2:
            continue
        for p in passages:
            for sentence in sentences_of(p.text):
                if sentence in q.quote:
                    continue
                words = set(tokenize(sentence))
                if (
                    len(frame & words) / len(frame) >= frame_share
                    and len(frame & words) / len(words) >= 0.4  # mostly the same statement
                    and not key & words
                    and names <= words
                    and words - frame - asked
                    and (not asked or asked & words)
                    and all(sentence != f.quote for f in found)
                ):
                    found.append(Quote(n=p.n, quote=sentence, holds=0.0))
    return found[:2]


class Support(Step[SupportInput, SupportOutput]):
    name = "support"
    Input, Output, Settings = SupportInput, SupportOutput, SupportSettings

    def read(self, state: TurnState, ctx: StepContext) -> SupportInput:
        return SupportInput(
            question=state.query or state.question,
            answer=state.answer,
            declined=state.declined,
            passages=state.passages,
            # a piece read again from a sentence (``compose.read_from_note``) rests on that sentence
            pieces=[
                f"{h.read_from_note} {h.answer}" if getattr(h, "read_from_note", "") else h.answer
                for h in state.hops
                if not h.declined
            ],
        )

    def skip(self, state: TurnState, inp: SupportInput) -> tuple[str, SupportOutput] | None:
        if inp.declined or not inp.answer.strip():
            return "declined: nothing to support", SupportOutput()
        if not inp.passages:
            return "no passages", SupportOutput(supported=False)
        return None

    def run(self, ctx: StepContext, inp: SupportInput) -> SupportOutput:
        s = SupportSettings.of(ctx)
        # a compound question's answer ("No [1][2].") rests on what its pieces found
        said = " ".join([*inp.pieces, inp.answer]) if inp.pieces else inp.answer
        quotes = quotes_for(said, inp.passages, s.max_quote_sentences)
        words = set(tokenize(CITE.sub("", said)))
        quoted = set(tokenize(" ".join(q.quote for q in quotes)))
        share = len(words & quoted) / len(words) if words else 0.0
        supported = bool(quotes) and share >= s.min_share
        if not quotes:
            ctx.note("the answer cites no passage: no evidence to show")
        elif not supported:
            ctx.note(f"the quoted evidence holds {share:.0%} of the answer's words: shown as unsupported")
        disagree = disagreements(inp.question, inp.answer, quotes, inp.passages, s.frame_share)
        if disagree:
            ctx.note(f"the sources disagree: {[d.quote for d in disagree]}")
        return SupportOutput(quotes=quotes, supported=supported, disagree=disagree)

    def write(self, state: TurnState, out: SupportOutput, ctx: StepContext) -> None:
        state.support, state.supported = out.quotes, out.supported
        if out.disagree:
            # the answer names both: the user sees the disagreement, not one silent pick; each
            # quote is followed by its citation (and loses any evidence tags a document forged)
            said = "; ".join(f'"{strip_leaked_tags(d.quote)[0]}" [{d.n}]' for d in out.disagree)
            extra = f"\n\nThe sources disagree: {said}."
            state.answer += extra
            state.support = [*out.quotes, *out.disagree]
            if ctx.on_token is not None:
                ctx.on_token(extra)
