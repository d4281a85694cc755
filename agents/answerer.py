"""Write the final answer from the evidence, citing passages as [n], streamed; decline when
there is no evidence instead of guessing. The answer is then checked: echoed evidence tags are
removed, citations of passages the answerer was not given are removed, and an answer that cites
nothing gets the [n] of the passage its sentences were copied from."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from openbook.prompts import text as prompt_text

from .kit.evidence import Passage, strip_leaked_tags
from .kit.llm import ChatOptions, ChatResult, PartialAnswer
from .kit.step import Step, StepContext, StepSettings, TurnState

CITE = re.compile(r"\[(\d{1,3})\]")


class AnswerInput(BaseModel):
    question: str
    passages: list[Passage]  # facts or passages, numbered as they are cited


class AnswerOutput(BaseModel):
    text: str
    declined: bool = False
    cited: list[int] = Field(default_factory=list)


class AnswerSettings(StepSettings):
    answer_max_tokens: int = 200
    attribute_overlap: float = 0.5  # share of a sentence's words a passage must hold to be cited


class Answer(Step[AnswerInput, AnswerOutput]):
    name = "answer"
    prompt = "answerer"
    role = "answerer"
    Input, Output, Settings = AnswerInput, AnswerOutput, AnswerSettings

    def read(self, state: TurnState, ctx: StepContext) -> AnswerInput:
        return AnswerInput(question=state.query or state.question, passages=state.evidence)

    def skip(self, state: TurnState, inp: AnswerInput) -> tuple[str, AnswerOutput] | None:
        if inp.passages:
            return None
        return (
            "no evidence survived retrieval and filtering: declined",
            AnswerOutput(text=prompt_text("decline"), declined=True),
        )

    def run(self, ctx: StepContext, inp: AnswerInput) -> AnswerOutput:
        s = AnswerSettings.of(ctx)
        result = stream_answer(self, ctx, inp)
        text, quote = split_quote(result.text.strip())
        if quote:
            ctx.note(f"the reader quoted first: {quote}")
        text, leaked = strip_leaked_tags(text)
        if leaked:
            ctx.note(f"removed {leaked} evidence tag(s) echoed into the answer")
        text, removed = check_citations(text, {p.n for p in inp.passages})
        if removed:
            ctx.note(f"removed invalid citation(s): {sorted(removed)}")
        text, moved = ground_citation(text, inp.passages)
        if moved:
            ctx.note(f"citation [{moved[0]}] → [{moved[1]}]: the answer's words are in passage {moved[1]}")
        if not CITE.search(text):
            text, added = attribute(text, inp.passages, s.attribute_overlap)
            if added:
                ctx.note(f"the answer cited nothing; attributed [n] by word overlap: {added}")
        return AnswerOutput(text=text, cited=sorted({int(n) for n in CITE.findall(text)}))

    def write(self, state: TurnState, out: AnswerOutput, ctx: StepContext) -> None:
        state.answer, state.declined = out.text, out.declined
        if out.declined and ctx.on_token:
            ctx.on_token(out.text)


def stream_answer(step: Step[Any, Any], ctx: StepContext, inp: BaseModel) -> ChatResult:
    """The answer model's reply to the step's prompt, streamed to ``ctx.on_token`` and recorded
    in the span; a reply that broke off raises ``PartialAnswer``."""
    prompt, messages = step.messages(inp)
    result = ctx.model("answerer").chat(
        messages,
        options=ChatOptions(temperature=0.0, seed=0, max_tokens=AnswerSettings.of(ctx).answer_max_tokens),
        on_token=ctx.on_token,
    )
    if ctx.span is not None:
        ctx.span.record_call(result, prompt)
    refuse_partial(result)
    return result


def refuse_partial(result: ChatResult) -> None:
    """A stream that broke off is an error the user sees, not an answer."""
    if result.partial:
        why = "; ".join(result.notes[-1:]) or "the stream ended early"
        raise PartialAnswer(
            f"The answer broke off after {len(result.text)} characters ({why})",
            text=result.text,
            hint="the model server stopped mid-answer; check that it is running and ask again",
        )


QUOTED = re.compile(
    r'^Quote\s*(\[\d{1,3}\])\s*:\s*"(?P<quote>.*?)"\s*\n+\s*Answer:\s*(?P<answer>\S.*)$', re.S
)


def split_quote(text: str) -> tuple[str, str | None]:
    """A reader trained to quote before answering (``Quote [n]: "…"`` then ``Answer: …``): the
    answer, and the quote for the trace. Any other reply is returned as it is."""
    m = QUOTED.match(text)
    if not m:
        return text, None
    return m.group("answer").strip(), f'{m.group(1)} "{m.group("quote")}"'


def check_citations(text: str, valid: set[int]) -> tuple[str, set[int]]:
    """Remove [n] that point at no passage given to the answerer."""
    removed: set[int] = set()

    def keep(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n in valid:
            return m.group(0)
        removed.add(n)
        return ""

    return re.sub(r"\s?" + CITE.pattern, keep, text), removed


SHORT = re.compile(r"^(?P<span>[^\[\]\n]{1,200}?)\s*\[(?P<n>\d+)\]\s*[.!]?$")


def ground_citation(text: str, passages: list[Passage]) -> tuple[str, tuple[int, int] | None]:
    """A short extractive answer ("SPAN [n]") whose words are not in passage n but are, verbatim,
    in another passage given: cite that one instead (small readers often pick the wrong number)."""
    m = SHORT.match(text.strip())
    if not m:
        return text, None
    span, n = m.group("span").strip(), int(m.group("n"))
    want = " ".join(span.lower().split())

    def has(p: Passage) -> bool:
        return want in " ".join(p.text.lower().split())

    if not want or any(p.n == n and has(p) for p in passages):
        return text, None
    other = next((p.n for p in passages if has(p)), None)
    return (text, None) if other is None else (f"{span} [{other}]", (n, other))


def attribute(text: str, passages: list[Passage], min_overlap: float = 0.5) -> tuple[str, list[int]]:
    """Small models often copy from the evidence without citing it: give each answer sentence
    the [n] of the passage that shares most of its words (at least ``min_overlap`` of them)."""
    from .kit.words import tokenize

    tokens = [(p.n, set(tokenize(p.text))) for p in passages]
    out, added = [], []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        words = set(tokenize(sentence))
        best = max(tokens, key=lambda nt: len(words & nt[1]), default=None)
        if words and best and len(words & best[1]) / len(words) >= min_overlap:
            sentence = re.sub(r"([.!?]?)$", lambda m, n=best[0]: f" [{n}]{m.group(1)}", sentence, count=1)
            added.append(best[0])
        out.append(sentence)
    return " ".join(out), sorted(set(added))
