"""Read the passage the reader cited alone, when its short answer is not in it.

A small reader sometimes cites the passage that answers and copies a name from another: asked
"Which moon has lakes of liquid methane?", it cited the Titan passage ("… the lakes and seas
are liquid methane and ethane …") for "Enceladus", copied from "Cassini found the water plumes
of Enceladus, mapped the methane lakes and seas of Titan". The answer step moves such a
citation to the passage that holds the words and holds the answer back; this step asks the
reader again with the cited passage alone. When that reading finds no answer either, no
passage says the first answer of what was asked — it is declined (the guess stays in the
trace); otherwise it stands. On training articles every answer this declined was wrong
(docs/benchmarks.md, "A cited passage that lacks the answer"). Explanatory answers, whose
sentences the question's words choose, are not rechecked.

The pipeline runs it only when the answer's citation was moved (``When(recheck_from)``)."""

from __future__ import annotations

from dataclasses import replace

from pydantic import Field

from openbook.prompts import text as prompt_text

from .answerer import Answer, AnswerInput, AnswerOutput
from .kit.evidence import CITE
from .kit.step import StepContext, TurnState


class RecheckInput(AnswerInput):
    first: str = Field(default="", exclude=True)  # the answer being checked


class Recheck(Answer):
    name = "recheck"
    switches = ("reread",)
    Input = RecheckInput

    def read(self, state: TurnState, ctx: StepContext) -> RecheckInput:
        cited = [p for p in state.passages if p.n == state.recheck_from]
        question = state.query or state.question
        return RecheckInput(question=question, passages=cited, sources=cited, first=state.answer)

    def reread_follows(self, state: TurnState, ctx: StepContext) -> bool:
        return False

    def run(self, ctx: StepContext, inp: AnswerInput) -> AnswerOutput:
        assert isinstance(inp, RecheckInput)
        n = inp.passages[0].n if inp.passages else None
        again = super().run(replace(ctx, on_token=None), inp)  # nothing streams: the verdict shows
        if not again.declined:
            ctx.note(f"passage [{n}] alone gave {again.text!r}: the first answer stands")
            cited = sorted({int(c) for c in CITE.findall(inp.first)})
            return AnswerOutput(text=inp.first, cited=cited, shown=False)
        ctx.note(
            f"declined {inp.first!r}: the reader cited [{n}], which does not hold those words, "
            f"and passage [{n}] read alone gives no answer"
        )
        return AnswerOutput(text=prompt_text("decline"), declined=True, shown=False, unsupported=inp.first)
