"""Answer accuracy on a question set with expected answers (the shipped sample questions)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from openbook.agents.answerer import is_decline

__all__ = ["Question", "is_correct", "is_decline", "sample_questions"]


class Question(BaseModel):
    question: str
    expected: list[str] = Field(default_factory=list)  # any of these in the answer = correct
    answerable: bool = True
    source: str | None = None  # the document that holds the answer


def sample_questions() -> list[Question]:
    path = Path(__file__).with_name("sample_questions.jsonl")
    return [Question(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def is_correct(q: Question, answer: str) -> bool:
    if not q.answerable:
        return is_decline(answer)
    low = answer.lower()
    return not is_decline(answer) and any(e.lower() in low for e in q.expected)
