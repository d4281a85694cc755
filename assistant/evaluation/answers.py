"""Answer accuracy on a question set with expected answers (the shipped sample questions)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, Field

DECLINE_PATTERNS = re.compile(
    r"could not find|couldn't find|do(es)? not (say|mention|contain)|not (mentioned|stated) in|"
    r"no information|don't know|do not know|cannot answer|can't answer",
    re.I,
)


class Question(BaseModel):
    question: str
    expected: list[str] = Field(default_factory=list)  # any of these in the answer = correct
    answerable: bool = True
    source: str | None = None  # the document that holds the answer


def sample_questions() -> list[Question]:
    path = Path(__file__).with_name("sample_questions.jsonl")
    return [Question(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def is_decline(answer: str) -> bool:
    return bool(DECLINE_PATTERNS.search(answer))


def is_correct(q: Question, answer: str) -> bool:
    if not q.answerable:
        return is_decline(answer)
    low = answer.lower()
    return not is_decline(answer) and any(e.lower() in low for e in q.expected)
