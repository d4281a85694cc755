"""Schema-constrained output on the bundled model: how often a pydantic-validated instance comes
back, over 100 varied prompts (constrained decoding + one repair retry, as the agents use it).

    .venv/bin/python bench/structured.py [--n 100]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Annotated

from pydantic import BaseModel, Field

from openbook.assistant import paths
from openbook.assistant.models.base import ChatOptions, Message, SchemaError, structured
from openbook.assistant.models.llamacpp_backend import LlamaCppChat, bundled_gguf


class SubQuestions(BaseModel):
    sub_questions: list[Annotated[str, Field(max_length=200)]] = Field(min_length=1, max_length=4)


class Rewrite(BaseModel):
    keywords: str = Field(max_length=200)
    hypothetical_answer: str = Field(max_length=600)


class Relevance(BaseModel):
    relevant: bool
    score: float = Field(ge=0, le=1)


def prompts() -> list[tuple[type[BaseModel], str]]:
    titles = [
        p.read_text().splitlines()[0].lstrip("# ") for p in sorted(paths.sample_docs_dir().glob("*.md"))
    ]
    out: list[tuple[type[BaseModel], str]] = []
    for t in titles:
        out.append(
            (
                SubQuestions,
                f"Split into at most 4 self-contained sub-questions: "
                f"What is {t}, and how was it discovered or explored?",
            )
        )
        out.append(
            (
                Rewrite,
                f"Give search keywords and a short hypothetical answer passage for: "
                f"What is notable about {t}?",
            )
        )
        out.append(
            (
                Relevance,
                f"Question: what causes the seasons on Earth?\nPassage: {t} is "
                f"described in this passage.\nIs the passage relevant? Score 0 to 1.",
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    model = LlamaCppChat(bundled_gguf(), n_ctx=2048)
    model.preload()
    ok = repaired = 0
    failures = []
    t0 = time.perf_counter()
    items = prompts()[: args.n]
    for schema, prompt in items:
        messages = [
            Message(role="system", content="Reply with JSON only."),
            Message(role="user", content=prompt),
        ]
        try:
            _, result = structured(
                model, messages, schema, options=ChatOptions(temperature=0.0, max_tokens=256)
            )
            ok += 1
            repaired += "schema repair retry" in result.notes
        except SchemaError as exc:
            failures.append({"schema": schema.__name__, "raw": exc.raw[:200]})
    took = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "prompts": len(items),
                "valid": ok,
                "rate": ok / len(items),
                "needed_repair": repaired,
                "seconds": round(took, 1),
                "failures": failures[:5],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
