"""Decide what a turn needs: a reply without the library (small talk, questions about the
conversation), or a search of the documents, with follow-ups made self-contained from history.

The planner drives the other steps through the ``search_documents`` tool, which the turn
runner executes (split, rewrite, retrieve, filter, distill) and records as a tool span.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from openbook.assistant.models.base import ChatModel
from openbook.assistant.tracing import Span

from .step import run_structured

_SMALL_TALK = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|thx|good (morning|evening|afternoon)|bye|goodbye|ok(ay)?|"
    r"cool|great|nice)[\s!.,]*$",
    re.I,
)


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class PlanInput(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list)


class PlanOutput(BaseModel):
    action: Literal["search_documents", "reply"]
    query: str = Field(default="", max_length=400)  # the self-contained question to search
    reply: str = Field(default="", max_length=600)


def _search(question: str) -> PlanOutput:
    # The question as asked may be longer than what the model may write (max_length applies
    # to model output), so it is not re-validated here.
    return PlanOutput.model_construct(action="search_documents", query=question, reply="")


def plan(model: ChatModel, inp: PlanInput, span: Span | None = None) -> PlanOutput:
    if _SMALL_TALK.match(inp.question):
        return PlanOutput(action="reply", reply=_small_talk_reply(inp.question))
    if not inp.history or not looks_follow_up(inp.question):
        # A first question, or one that names its subject, is searched as asked.
        return _search(inp.question)
    out = run_structured("planner", model, inp, PlanOutput, span, max_tokens=160)
    if out is None or (out.action == "search_documents" and len(out.query.strip()) < 3):
        if span is not None and out is not None:
            span.fallback("empty search query; searching the question as asked")
        return _search(inp.question)
    if out.action == "reply" and not out.reply.strip():
        return _search(inp.question)
    return out


_REFERS_BACK = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|there|"
    r"the same|the other|previous|above|earlier|you|your|we|our|us)\b",
    re.I,
)


def looks_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation (pronouns, "the other one", very short)."""
    return bool(_REFERS_BACK.search(question)) or len(question.split()) <= 2


def _small_talk_reply(text: str) -> str:
    if re.match(r"\s*(thanks|thank you|thx)", text, re.I):
        return "You're welcome! Ask me anything about your documents."
    if re.match(r"\s*(bye|goodbye)", text, re.I):
        return "Goodbye!"
    return "Hello! Ask me a question about your documents and I'll answer with sources."
