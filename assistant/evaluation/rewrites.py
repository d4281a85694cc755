"""The rewrite step's output for a set of questions, as the pipeline would search it: the
question's keywords and HyDE passage from the rewriter model, cached per model (a LoRA adapter's
sha256 is part of the model's identity) so that comparing rewriters costs one run of each. A
reading rewriter rewrites from the library's hits, so its cache is per model *and* library."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openbook.agents.kit.step import Library, StepContext
from openbook.agents.rewriter import QueryLikelihood, Rewrite, RewriteInput, RewriteSettings


def model_identity(model: Any) -> str:
    """The model's name, and its LoRA adapter's sha256 when it has one."""
    lora = getattr(model, "lora", None)
    if lora:
        digest = hashlib.sha256(Path(lora).read_bytes()).hexdigest()[:12]
        return f"{model.name}@{digest}"
    return str(model.name)


@dataclass
class Rewritten:
    """What the rewrite step adds to a question's search: its extra texts (keywords, HyDE
    passage) and, from a reading rewriter, its order of the hits it read (chunk ids)."""

    texts: list[str] = field(default_factory=list)
    order: list[int] = field(default_factory=list)


def rewrite(
    model: Any, question: str, library: Library | None = None, read_hits: int | None = None
) -> Rewritten:
    """The rewrite step's output for ``question``, as retrieval uses it; a reading rewriter
    reads ``library``'s first ``read_hits`` hits (unset: the step's default)."""
    settings = {} if read_hits is None else {"read_hits": read_hits}
    ctx = StepContext(models={"rewriter": model}, library=library, settings=settings)
    out = Rewrite().run(ctx, RewriteInput(question=question))
    texts = [
        t for t in (out.keywords, out.hypothetical_answer) if t.strip() and t.strip() != question.strip()
    ]
    return Rewritten(texts, out.read_order if texts else [])


def rewrites_for(
    model: Any,
    questions: dict[str, str],
    cache_dir: Path,
    say: Callable[[str], None] = lambda _m: None,
    library: Library | None = None,
    library_key: str = "",
    read_hits: int | None = None,
) -> tuple[dict[str, Rewritten], str]:
    """Each question's rewrite, and the rewriter's identity; cached in a JSONL file per
    rewriter (and, for a reading rewriter, per ``library_key``: what ``library`` holds), so an
    interrupted run resumes. A reading rewriter's rows cached before it kept its order are
    rewritten. A reading rewriter reads ``read_hits`` hits (``pipeline.read_hits``)."""
    identity = model_identity(model)
    key = identity
    reading = isinstance(model, QueryLikelihood)
    if reading:
        if library is None:
            raise ValueError(f"{identity} reads the library's hits: it needs the library")
        key += f"|{library_key}"
        if read_hits is not None and read_hits != RewriteSettings().read_hits:
            key += f"|read_hits={read_hits}"  # the default's key is unchanged: its caches stay valid
    path = cache_dir / "rewrites" / (hashlib.sha256(key.encode()).hexdigest()[:16] + ".jsonl")
    done: dict[str, Rewritten] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if not reading or "order" in row or not row["texts"]:
                    done[row["question"]] = Rewritten(row["texts"], row.get("order", []))
    todo = [q for q in dict.fromkeys(questions.values()) if q not in done]
    if todo:
        say(f"Rewriting {len(todo)} questions with {identity}…")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            for n, q in enumerate(todo, 1):
                done[q] = rewrite(model, q, library, read_hits if reading else None)
                row = {"question": q, "texts": done[q].texts, "order": done[q].order}
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                if n % 25 == 0:
                    say(f"  {n}/{len(todo)}")
    return {qid: done[q] for qid, q in questions.items()}, identity
