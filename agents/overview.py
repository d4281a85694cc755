"""Answer a request for an overview — "Tell me about Titan", "What do you know about Cassini?",
"Give me an overview of Saturn's moons" — with the opening of the passage about its subject.

No model: a small reader asked for an overview of a thing has no span to copy and declines, even
with the document about that thing in hand. A person asking wants what that document says first.
So when the question asks for an overview (``subject_of``) and a passage's document title or
section heading names the subject (``titled``), the answer is that passage's first sentences,
quoted and cited: the heading that holds most of the subject wins (a section "Saturn > Moons"
over the document "Saturn" for "Saturn's moons"), then the document's opening (the lowest
chunk), then the search rank. When no passage is titled with the subject the reader answers as
for any question.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from .kit.evidence import Hit, sentences_of
from .kit.questions import subject_of
from .kit.step import Step, StepContext, TurnState
from .kit.words import tokenize


class OverviewInput(BaseModel):
    question: str
    chunks: list[Hit] = Field(default_factory=list, exclude=True)  # the turn's passages, [n] order


class OverviewOutput(BaseModel):
    text: str
    subject: str = ""
    heading: str = ""  # the title or section that names the subject
    cited: list[int] = Field(default_factory=list)
    shown: bool = False  # not streamed token by token: the runner shows it whole


SENTENCES = 2  # the opening sentences an overview answer quotes…
WORDS = 70  # …within this many words (one sentence when the first is longer)


def headings_of(hit: Hit) -> list[str]:
    """The names a chunk is filed under: its document's title and each level of its section."""
    levels = [s.strip() for s in str(hit.metadata.get("section", "")).split(">") if s.strip()]
    return levels if levels and levels[0] == hit.title else [hit.title, *levels]


def titled(subject: str, chunks: list[Hit]) -> tuple[int, str] | None:
    """The [n] (1-based) of the passage whose title or heading names the subject, and that
    heading. The subject's names (its capitalised words: "Cassini" of "the Cassini mission"; all
    its words when none is) must all be in the heading; among those, the heading holding most of
    the subject's words wins ("Saturn > Moons" for "Saturn's moons"), then the one with the
    fewest other words, then the lowest chunk (the document's opening), then the best rank."""
    every = set(tokenize(subject))
    need = set(tokenize(" ".join(w for w in subject.split() if w[:1].isupper()))) or every
    best: tuple[tuple[int, int, int, int], int, str] | None = None
    for n, hit in enumerate(chunks, 1):
        if not sentences_of(hit.text):
            continue  # a heading alone, or nothing but lines that pose as instructions
        levels = headings_of(hit)
        for depth in range(1, len(levels) + 1):
            named = set(tokenize(" ".join(levels[:depth])))
            if need <= named:
                key = (-len(every & named), len(named - every), hit.ordinal, n)
                if best is None or key < best[0]:
                    best = (key, n, " > ".join(levels[:depth]))
    return None if best is None else (best[1], best[2])


def opening(text: str, sentences: int, words: int) -> str:
    """The first ``sentences`` sentences of a passage (headings left out), within ``words``."""
    chosen: list[str] = []
    for s in sentences_of(text)[:sentences]:
        if chosen and len(" ".join([*chosen, s]).split()) > words:
            break
        chosen.append(s)
    return " ".join(chosen)


class Overview(Step[OverviewInput, OverviewOutput]):
    name = "overview"
    Input, Output = OverviewInput, OverviewOutput

    @staticmethod
    def applies(state: TurnState) -> bool:
        subject = subject_of(state.query or state.question)
        return subject is not None and titled(subject, state.chunks) is not None

    def read(self, state: TurnState, ctx: StepContext) -> OverviewInput:
        return OverviewInput(question=state.query or state.question, chunks=state.chunks)

    def run(self, ctx: StepContext, inp: OverviewInput) -> OverviewOutput:
        subject = subject_of(inp.question) or ""
        found = titled(subject, inp.chunks)
        assert found is not None, "the pipeline runs overview only when a passage is titled with its subject"
        n, heading = found
        text = opening(inp.chunks[n - 1].text, SENTENCES, WORDS)
        ctx.note(f"an overview of {subject!r}: the opening of passage [{n}], filed under {heading!r}")
        return OverviewOutput(text=f"{text} [{n}]", subject=subject, heading=heading, cited=[n])

    def write(self, state: TurnState, out: OverviewOutput, ctx: StepContext) -> None:
        state.answer, state.declined = out.text, False
