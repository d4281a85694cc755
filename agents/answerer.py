"""Write the final answer from the evidence, citing passages as [n], streamed; decline when
there is no evidence instead of guessing. The answer is then checked: echoed evidence tags are
removed, citations of passages the answerer was not given are removed, and an answer that cites
nothing gets the [n] of the passage its sentences were copied from.

When the evidence is the distilled note and the ``reread`` step will follow, a decline may be
withdrawn (``may_withdraw``): the runner (``Stream``) holds it back instead of streaming it, and
the reread answers again from the whole passages, so the user never sees "I could not find…"
followed by an answer."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, Field

from openbook.prompts import text as prompt_text

from .kit.evidence import CITE, Passage, strip_leaked_tags
from .kit.grounding import explain, explained_share, support_of
from .kit.hold import HeldDecline, is_decline
from .kit.llm import ChatOptions, ChatResult, Message, PartialAnswer
from .kit.loops import LoopGuard, cut_loop
from .kit.questions import question_type
from .kit.step import Step, StepContext, StepSettings, TurnState
from .kit.words import tokenize

__all__ = ["Answer", "AnswerInput", "AnswerOutput", "AnswerSettings", "is_decline", "HeldDecline"]


class AnswerInput(BaseModel):
    question: str
    passages: list[Passage]  # facts or passages, numbered as they are cited
    # the whole passages those were taken from (not shown to the model): where an explanatory
    # question's answer finds its explaining sentences
    sources: list[Passage] = Field(default_factory=list, exclude=True)
    # the last reading of the turn (no reread follows): a doubtful decline is not taken here
    final: bool = Field(default=True, exclude=True)


class AnswerOutput(BaseModel):
    text: str
    declined: bool = False
    cited: list[int] = Field(default_factory=list)
    shown: bool = True  # the text reached the user (streamed); False: held back, or no stream
    unsupported: str | None = None  # the copied answer the support check turned into a decline
    decline_p: float | None = None  # the reader began a decline with this probability
    second_choice: str | None = None  # …and answered from this first token instead (decline_below)


class AnswerSettings(StepSettings):
    answer_max_tokens: int = 200
    attribute_overlap: float = 0.5  # share of a sentence's words a passage must hold to be cited
    support: float = 0.3  # share of the question's words around a copied answer; less: declined
    # a decline the reader begins with less than this probability is not taken: it answers from its
    # next most likely first token, and that answer faces the checks every answer faces (0: off).
    # Off for factoid questions: on training articles the second answers were right 4 times in 32;
    # 0.5 for explanatory ones, whose answer is the sentence the question's words choose: from 0.4,
    # on held-out articles, 13 more of 337 answers held the explanation and 3 more of 60
    # unanswerable why-questions were answered (docs/benchmarks.md, "Doubtful declines")
    decline_below: float = 0.0
    explanatory_decline_below: float = 0.5


class Answer(Step[AnswerInput, AnswerOutput]):
    name = "answer"
    prompt = "answerer"
    role = "answerer"
    Input, Output, Settings = AnswerInput, AnswerOutput, AnswerSettings

    def __init__(self, *, plain: bool = False) -> None:
        self.plain = plain  # the ``--plain`` baseline: no support check

    def read(self, state: TurnState, ctx: StepContext) -> AnswerInput:
        return AnswerInput(
            question=state.query or state.question,
            passages=state.evidence,
            sources=state.passages,
            final=not self.reread_follows(state, ctx),
        )

    def support(self, ctx: StepContext) -> float:
        return 0.0 if self.plain else AnswerSettings.of(ctx).support

    def may_withdraw(self, state: TurnState, ctx: StepContext) -> bool:
        """Whether the streamed answer may still be withdrawn or rewritten, so the runner holds
        it until it clearly stands: a decline that a reread would answer again, a short copy that
        the support check may turn into a decline, or the span an explanatory question's answer
        is built around."""
        explains = not self.plain and question_type(state.query or state.question) == "explanatory"
        return self.reread_follows(state, ctx) or self.support(ctx) > 0 or explains

    def reread_follows(self, state: TurnState, ctx: StepContext) -> bool:
        """Whether a decline here would be answered again from the whole passages: the
        ``reread`` switch is on and the evidence is the note distilled from passages."""
        return (
            ctx.switches.get("reread", False)
            and bool(state.passages)
            and bool(state.evidence)
            and state.evidence != state.passages
        )

    def skip(self, state: TurnState, inp: AnswerInput) -> tuple[str, AnswerOutput] | None:
        if inp.passages:
            return None
        return (
            "no evidence survived retrieval and filtering: declined",
            AnswerOutput(text=prompt_text("decline"), declined=True, shown=False),
        )

    def run(self, ctx: StepContext, inp: AnswerInput) -> AnswerOutput:
        s = AnswerSettings.of(ctx)
        held = ctx.on_token if isinstance(ctx.on_token, HeldDecline) else None
        explains = not self.plain and question_type(inp.question) == "explanatory"
        if held is not None and explains:
            held.hold_all = True  # the span is rewritten into the sentences that explain
        # a doubtful decline is asked again only where the user has not seen it (held, or no stream)
        unseen = ctx.on_token is None or held is not None
        setting = "explanatory_decline_below" if explains else "decline_below"
        doubt = getattr(s, setting) if inp.final and unseen else 0.0  # decoding: ``plain`` too
        try:
            result, decline_p, second = self.reply(ctx, inp, held, doubt, setting)
        except PartialAnswer:
            if held is not None:
                held.release()  # what arrived before the break is shown, as without holding
            raise
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
        declined = is_decline(text)
        if explains and not declined:
            explained, span = explain(inp.question, text, inp.sources or inp.passages)
            if explained != text:
                ctx.note(
                    "an explanatory question: answered with the sentence sharing most of its words "
                    f"(and the next when it gives no cause); the reader's answer was {span!r}"
                )
            text = explained
        need, unsupported = self.support(ctx), None
        if not declined and not (held is not None and held.released) and need > 0:
            share = (
                explained_share(text, inp.question)
                if explains
                else support_of(text, inp.passages, inp.question, inp.sources)
            )
            if share is not None and share < need:
                ctx.note(
                    f"declined {text!r}: its sentence holds {share:.0%} of the question's words "
                    f"(pipeline.support {need:.0%})"
                )
                unsupported, text, declined = text, prompt_text("decline"), True
        if held is not None and not declined:
            held.finish(text)  # as checked: a moved or removed citation shows as it ends
        shown = ctx.on_token is not None and (held is None or held.released)
        if declined and not shown:
            ctx.note("the answer declined: held back, not streamed")
        cited = sorted({int(n) for n in CITE.findall(text)})
        return AnswerOutput(
            text=text,
            declined=declined,
            cited=cited,
            shown=shown,
            unsupported=unsupported,
            decline_p=decline_p,
            second_choice=second,
        )

    def reply(
        self, ctx: StepContext, inp: AnswerInput, held: HeldDecline | None, doubt: float, setting: str
    ) -> tuple[ChatResult, float | None, str | None]:
        """The reader's reply; when it begins a decline with probability under ``doubt``, the
        reply it gives from its next most likely first token instead (and the two)."""
        result = stream_answer(self, ctx, inp, top_logprobs=5 if doubt > 0 else 0)
        decline_p, second = doubtful_decline(result, doubt)
        if doubt > 0 and not result.first_token and is_decline(result.text):
            ctx.note(
                f"{result.model} gave no token probabilities, so its decline stands "
                "(Ollama returns them from 0.12.11)"
            )
        if second is None or (held is not None and held.released):
            return result, decline_p, None
        ctx.note(
            f"the reader began to decline with probability {decline_p:.2f} "
            f"(under pipeline.{setting} {doubt:.2f}): asked again from its next choice, {second!r}"
        )
        if held is not None:
            held.restart()
        again = stream_answer(self, ctx, inp, prefill=second)
        return again.model_copy(update={"text": second + again.text}), decline_p, second

    def write(self, state: TurnState, out: AnswerOutput, ctx: StepContext) -> None:
        """The answer into the state, and whether a reread is due (the runner shows a held-back
        decline unless it is). An unsupported copy is not reread: the model found something,
        only not the answer, and the whole passages mostly give it the same span again."""
        state.answer, state.declined = out.text, out.declined
        state.reread_due = (
            out.declined and not out.shown and out.unsupported is None and self.reread_follows(state, ctx)
        )


def doubtful_decline(result: ChatResult, below: float) -> tuple[float | None, str | None]:
    """For a reply that declines: the probability its first token had, and — when that is
    under ``below`` — the most likely other first token, to answer from instead. (A small
    reader declines many questions its passages answer, by a narrow margin: docs/benchmarks.md,
    "Doubtful declines".)"""
    if not is_decline(result.text) or not result.first_token:
        return None, None
    chosen, *others = result.first_token
    p = math.exp(chosen.logprob)
    if p >= below:
        return p, None
    second = next((c.token for c in others if c.token.strip() and c.token != chosen.token), None)
    return p, second


def stream_answer(
    step: Step[Any, Any],
    ctx: StepContext,
    inp: BaseModel,
    *,
    top_logprobs: int = 0,
    prefill: str | None = None,
) -> ChatResult:
    """The answer model's reply to the step's prompt, streamed to ``ctx.on_token`` and recorded
    in the span; a reply that broke off raises ``PartialAnswer``; one stuck repeating itself is
    cut where the repetition starts (``kit.loops``), and its stream stops there. ``prefill``:
    the reply continues it (streamed first; ``text`` is what follows it)."""
    prompt, messages = step.messages(inp)
    on_token = LoopGuard(ctx.on_token) if ctx.on_token else None
    if prefill is not None:
        messages = [*messages, Message(role="assistant", content=prefill)]
        if on_token:
            on_token(prefill)
    result = ctx.model("answerer").chat(
        messages,
        options=ChatOptions(
            temperature=0.0,
            seed=0,
            max_tokens=AnswerSettings.of(ctx).answer_max_tokens,
            top_logprobs=top_logprobs,
        ),
        on_token=on_token,
    )
    if ctx.span is not None:
        ctx.span.record_call(result, prompt)  # the reply as the model wrote it
    refuse_partial(result)
    text, unit = cut_loop(result.text)
    if unit is not None:
        ctx.note(f"the reply repeated {unit!r} over and over: kept it once, cut the rest")
        result = result.model_copy(update={"text": text})
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
