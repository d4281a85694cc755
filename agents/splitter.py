"""Split a question into 1..N self-contained sub-questions, each retrieved on its own."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, Field

from openbook.assistant.models.base import ChatModel
from openbook.assistant.tracing import Span

from .step import run_structured


class SplitInput(BaseModel):
    question: str
    max_parts: int = 3


class SplitOutput(BaseModel):
    sub_questions: list[Annotated[str, Field(min_length=3, max_length=300)]] = Field(
        min_length=1, max_length=6
    )


_COMPOUND = re.compile(r"\band\b|;|\balso\b|\bversus\b|\bvs\.?\b|\bcompare", re.I)


def looks_compound(question: str) -> bool:
    """Whether a question may ask more than one thing; a single question skips the model call."""
    return bool(_COMPOUND.search(question)) or question.count("?") > 1


def split(model: ChatModel, inp: SplitInput, span: Span | None = None) -> SplitOutput:
    out = run_structured("splitter", model, inp, SplitOutput, span, max_tokens=200)
    if out is None:
        return SplitOutput(sub_questions=[inp.question])
    parts = list(dict.fromkeys(q.strip() for q in out.sub_questions if q.strip()))[: inp.max_parts]
    if not parts:
        if span is not None:
            span.fallback("no usable sub-questions")
        return SplitOutput(sub_questions=[inp.question])
    return SplitOutput(sub_questions=parts)
