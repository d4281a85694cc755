"""Rewrite a (sub-)question into better search text: keywords, and a HyDE-style hypothetical
answer passage. The original text is always searched as well (by the retriever)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from openbook.assistant.models.base import ChatModel
from openbook.assistant.tracing import Span

from .step import run_structured


class RewriteInput(BaseModel):
    question: str


class RewriteOutput(BaseModel):
    keywords: str = Field(default="", max_length=200)
    hypothetical_answer: str = Field(default="", max_length=500)


def rewrite(model: ChatModel, inp: RewriteInput, span: Span | None = None) -> RewriteOutput:
    out = run_structured("rewriter", model, inp, RewriteOutput, span, max_tokens=200)
    if out is None:
        return RewriteOutput(keywords=inp.question, hypothetical_answer="")
    return out
