"""RAFT data from the user's own library: questions from a file, or written by a teacher model.

The teacher (``models.teacher``, any configured model — a larger Ollama model is best) reads a
sample of stored chunks and writes one question per chunk with a short answer copied from it —
or, for a share of the chunks (``explain``), a why/how question answered by the sentence of the
chunk that explains it (``prompts/teacher_explain.md``; recipe v3's ``--target mixed`` answers
such questions with that sentence). A question is kept only if its answer really is in the
chunk, a why/how one only if the rule of ``question_type`` calls it explanatory and its answer
is a sentence's length (``EXPLANATION_WORDS``), and each once (normalised). Each question's
oracle is its chunk; distractors are hard negatives from the library's own hybrid retrieval;
the split is by document, so validation never sees a training document.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from openbook.agents.kit.evidence import Hit
from openbook.agents.kit.llm import ChatModel, ChatOptions, Message, ModelError, structured
from openbook.agents.kit.questions import question_type
from openbook.prompts import render

from ..errors import OpenbookError
from ..evaluation.qa_data import QAItem
from ..evaluation.qa_metrics import has_answer, normalize
from .data import EXPLANATION_WORDS, Example, RaftConfig, chunks_by_document, examples_for, write_split


class TeacherQA(BaseModel):
    question: str = Field(min_length=8, max_length=300)
    answer: str = Field(min_length=1, max_length=120)


class TeacherWhy(TeacherQA):
    answer: str = Field(min_length=1, max_length=600)  # the explaining sentence


class Library:
    """The user's library seen as a dataset: a document is its stored source path."""

    name = "library"

    def doc_of_source(self, source: str) -> str:
        return source


def teach(
    teacher: ChatModel,
    chunks: list[Hit],
    say: Callable[[str], None] = lambda _m: None,
    explain: float = 0.0,
    seed: int = 0,
) -> tuple[list[QAItem], dict[str, int]]:
    """One question per chunk from the teacher — a why/how one for a seeded share ``explain`` of
    the chunks; kept when its answer is in the chunk (a why/how one: at most a sentence long), once."""
    items: list[QAItem] = []
    seen: set[str] = set()
    counts = {"asked": 0, "kept": 0, "answer_not_in_chunk": 0, "duplicate": 0, "failed": 0}
    if explain:
        counts.update(asked_why=0, kept_why=0, not_why_or_how=0, answer_too_long=0)
    rng = random.Random(seed)
    for n, hit in enumerate(chunks, 1):
        why = rng.random() < explain
        counts["asked"] += 1
        if why:
            counts["asked_why"] += 1
        prompt, shape, tokens = ("teacher_explain", TeacherWhy, 240) if why else ("teacher", TeacherQA, 160)
        messages = [Message(role="user", content=render(prompt, {"passage": hit.text}))]
        opts = ChatOptions(temperature=0.0, max_tokens=tokens)
        try:
            qa, _ = structured(teacher, messages, shape, options=opts)
        except ModelError:
            counts["failed"] += 1
            continue
        if why and question_type(qa.question) != "explanatory":
            counts["not_why_or_how"] += 1
            continue
        if not has_answer(hit.text, [qa.answer]):
            counts["answer_not_in_chunk"] += 1
            continue
        if why and len(qa.answer.split()) > EXPLANATION_WORDS:
            counts["answer_too_long"] += 1
            continue
        key = normalize(qa.question)
        if key in seen:
            counts["duplicate"] += 1
            continue
        seen.add(key)
        items.append(
            QAItem(id=f"chunk-{hit.chunk_id}", question=qa.question.strip(), answers=[qa.answer.strip()],
                   gold_doc=hit.source, group=hit.source)
        )  # fmt: skip
        counts["kept"] += 1
        if why:
            counts["kept_why"] += 1
        if n % 10 == 0:
            say(f"  teacher: {n}/{len(chunks)} chunks, {counts['kept']} questions kept")
    return items, counts


def read_questions(path: Path, sources: set[str], need_answers: bool = True) -> list[QAItem]:
    """``questions.jsonl`` lines ``{"question", "answers", "gold_doc"}`` with ``gold_doc`` a stored
    document's source path (or its file name, when that is unique); ``answers`` may be left out
    when only the document matters (calibration)."""
    by_name: dict[str, list[str]] = {}
    for s in sources:
        by_name.setdefault(Path(s).name, []).append(s)
    items = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers = list(row["answers"] if need_answers else row.get("answers", []))
            question, gold = row["question"], str(row["gold_doc"])
        except (ValueError, KeyError, TypeError) as exc:
            raise OpenbookError(
                f"{path}:{i} is not a question line ({exc})",
                hint='each line: {"question": "...", "answers": ["..."], "gold_doc": "a stored document"}',
            ) from exc
        matches = [gold] if gold in sources else by_name.get(Path(gold).name, [])
        if len(matches) != 1:
            why = "is ambiguous (several stored files have that name)" if matches else "is not stored"
            raise OpenbookError(f"{path}:{i}: {gold} {why}", hint="use the source path `openbook docs` shows")
        source = matches[0]
        items.append(QAItem(id=str(row.get("id", i)), question=question, answers=answers, gold_doc=source,
                            group=source))  # fmt: skip
    return items


def build_from_library(
    store: Any,
    embedder: Any,
    retriever: Any,
    out_dir: Path,
    *,
    questions: Path | None = None,
    teacher: ChatModel | None = None,
    sample: int = 200,
    explain: float = 0.0,
    cfg: RaftConfig | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    cfg = cfg or RaftConfig()
    doc_chunks = chunks_by_document(store, Library())
    if not doc_chunks:
        raise OpenbookError("The library is empty", hint="add documents first: openbook ingest PATH")
    if len(doc_chunks) < 2:
        raise OpenbookError("Fine-tuning data needs at least two documents (one to validate on)")
    counts: dict[str, int] = {}
    if questions is not None:
        items = read_questions(questions, set(doc_chunks))
    elif teacher is not None:
        every = [h for hits in doc_chunks.values() for h in hits]
        chosen = random.Random(cfg.seed).sample(every, min(sample, len(every)))
        say(f"Teacher {teacher.name}: one question for each of {len(chosen)} chunks…")
        items, counts = teach(teacher, chosen, say, explain=explain, seed=cfg.seed)
    else:
        raise OpenbookError("No questions", hint="give --questions FILE, or --teacher MODEL to write them")
    if not items:
        raise OpenbookError("No usable questions", hint=f"teacher: {counts}" if counts else None)
    examples: list[Example] = list(
        examples_for(Library(), items, retriever, embedder.embed_batch, doc_chunks, cfg)
    )
    stats = write_split(examples, out_dir, cfg.val_share)
    stats.update({"source": "library", "questions": len(items), "teacher": counts or None})
    stats["config"] = cfg.__dict__
    (out_dir / "data.json").write_text(json.dumps(stats, indent=2))
    return stats
