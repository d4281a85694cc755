"""The rewrite step's output for a set of questions, as the pipeline would search it: the
question's keywords and HyDE passage from the rewriter model, cached per model (a LoRA adapter's
sha256 is part of the model's identity) so that comparing rewriters costs one run of each. A
reading rewriter rewrites from the library's hits, so its cache is per model *and* library."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openbook.agents.kit.step import Library, StepContext
from openbook.agents.rewriter import QueryLikelihood, Rewrite, RewriteInput


def model_identity(model: Any) -> str:
    """The model's name, and its LoRA adapter's sha256 when it has one."""
    lora = getattr(model, "lora", None)
    if lora:
        digest = hashlib.sha256(Path(lora).read_bytes()).hexdigest()[:12]
        return f"{model.name}@{digest}"
    return str(model.name)


def rewrite(model: Any, question: str, library: Library | None = None) -> list[str]:
    """The extra search texts the rewrite step adds for ``question`` (keywords, HyDE passage);
    a reading rewriter reads ``library``'s hits."""
    ctx = StepContext(models={"rewriter": model}, library=library)
    out = Rewrite().run(ctx, RewriteInput(question=question))
    return [t for t in (out.keywords, out.hypothetical_answer) if t.strip() and t.strip() != question.strip()]


def rewrites_for(
    model: Any,
    questions: dict[str, str],
    cache_dir: Path,
    say: Callable[[str], None] = lambda _m: None,
    library: Library | None = None,
    library_key: str = "",
) -> tuple[dict[str, list[str]], str]:
    """Each question's extra search texts, and the rewriter's identity; cached in a JSONL file
    per rewriter (and, for a reading rewriter, per ``library_key``: what ``library`` holds), so
    an interrupted run resumes."""
    identity = model_identity(model)
    key = identity
    if isinstance(model, QueryLikelihood):
        if library is None:
            raise ValueError(f"{identity} reads the library's hits: it needs the library")
        key += f"|{library_key}"
    path = cache_dir / "rewrites" / (hashlib.sha256(key.encode()).hexdigest()[:16] + ".jsonl")
    done: dict[str, list[str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["question"]] = row["texts"]
    todo = [q for q in dict.fromkeys(questions.values()) if q not in done]
    if todo:
        say(f"Rewriting {len(todo)} questions with {identity}…")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            for n, q in enumerate(todo, 1):
                done[q] = rewrite(model, q, library)
                fh.write(json.dumps({"question": q, "texts": done[q]}) + "\n")
                fh.flush()
                if n % 25 == 0:
                    say(f"  {n}/{len(todo)}")
    return {qid: done[q] for qid, q in questions.items()}, identity
