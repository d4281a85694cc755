"""One training example of the answer model, and reading them back. Kept free of the retrieval
and database imports so that the trainer (and a GPU machine with only torch on it) needs only
pydantic to read its data."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class Example(BaseModel):
    messages: list[dict[str, str]]  # system + user, exactly as the answerer sends them
    target: str  # what the assistant should reply
    id: str
    group: str
    format: str
    oracle: bool  # the oracle chunk was among the passages
    answerable: bool  # the answer is in what the model was shown
    kind: str = ""  # the question's type (agents/kit/questions.py), for the data's figures


def load_examples(path: Path) -> list[Example]:
    return [
        Example.model_validate_json(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()
    ]
