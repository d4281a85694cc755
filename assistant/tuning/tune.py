"""``openbook tune retrieval``: calibrate fusion to one library, with pseudo-queries made from it.

Two kinds of pseudo-query, both with a known right chunk:

- ``masked`` (no model needed): a sentence taken out of a sampled chunk is the query, and the chunk
  is scored *as if that sentence were not in it* (its BM25 score and its embedding distance are
  recomputed on the rest of the text, and it is re-placed in each leg's list), so the query must
  find its chunk by what surrounds it, not by copying it (the inverse cloze task). Sentences that
  also appear in a neighbouring chunk (chunk overlap) are not used.
- ``generated``: a model role (``models.teacher``) writes a question for each sampled chunk, kept
  when its answer is in the chunk.
- ``questions``: real questions with known answers, from the user (``questions.jsonl`` lines
  ``{"question", "gold_doc"}``, as `finetune data --questions` reads them); the right *document*
  is the relevant one. The best probe when a user has a few dozen such questions.

Every candidate fusion of ``calibrate.grid()`` is scored on them (nDCG@10 of the right chunk);
the best one replaces the safe default only when its gain is surely above zero (``choose``). The
evidence gate's threshold comes from masked pseudo-queries, whatever the kind
(``gate.calibrate``). The result — fusion, gate, figures, and the corpus size they were measured
on — is stored with the library (``meta``); turns use it while the corpus stays about that size
(``retriever.stale``).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from openbook.db import meta

from ..errors import OpenbookError
from ..library import embedding_text
from ..retrieval.fusion import RankedList
from ..retrieval.retriever import CALIBRATION_KEY, Retriever
from . import calibrate, gate

Kind = Literal["masked", "generated", "questions"]


@dataclass
class Pseudo:
    query: str
    chunk_id: int
    masked: str | None = None  # the chunk's text without the query sentence (masked kind)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def masked_queries(rows: list[dict[str, Any]], n: int, seed: int = 0) -> list[Pseudo]:
    """``rows``: chunks with id, document_id, ordinal, text (every chunk, for the neighbours)."""
    by_doc: dict[int, dict[int, str]] = {}
    for r in rows:
        by_doc.setdefault(int(r["document_id"]), {})[int(r["ordinal"])] = r["text"]
    rng = random.Random(seed)
    out: list[Pseudo] = []
    for r in rng.sample(rows, len(rows)):
        if len(out) >= n:
            break
        doc = by_doc[int(r["document_id"])]
        neighbours = [doc.get(int(r["ordinal"]) + d, "") for d in (-1, 1)]
        usable = [
            s
            for s in _sentences(r["text"])
            if 6 <= len(s.split()) <= 40 and not any(s in nb for nb in neighbours)
        ]
        if not usable:
            continue
        sentence = rng.choice(usable)
        rest = " ".join(r["text"].replace(sentence, " ", 1).split())
        if len(rest.split()) < 15:  # too little left to be found by
            continue
        out.append(Pseudo(sentence, int(r["id"]), rest))
    return out


def as_hits(rows: list[dict[str, Any]]) -> list[Any]:
    """Chunk rows as the agents' Hit (what the teacher reads)."""
    from openbook.agents.kit.evidence import Hit

    return [Hit(chunk_id=int(r["id"]), document_id=int(r["document_id"]), source="", title="",
                ordinal=int(r["ordinal"]), text=r["text"], metadata={}, rank=1, fused_score=0.0)
            for r in rows]  # fmt: skip


def generated_queries(teacher: Any, hits: list[Any], say: Callable[[str], None]) -> list[Pseudo]:
    from ..finetune.library_data import teach

    items, counts = teach(teacher, hits, say)
    say(f"  teacher: {counts}")
    return [Pseudo(i.question, int(i.id.removeprefix("chunk-"))) for i in items]


def _replace(ranked: RankedList, chunk_id: int, value: float, depth: int) -> RankedList:
    """``ranked`` with ``chunk_id`` moved to where ``value`` puts it (or dropped past ``depth``)."""
    hits = [h for h in ranked.hits if h[0] != chunk_id]
    better = (lambda v: v > value) if ranked.leg == "bm25" else (lambda v: v < value)
    keep = ranked.leg != "bm25" or value > 0
    if keep:
        at = sum(1 for _c, v in hits if better(v))
        hits.insert(at, (chunk_id, value))
    return RankedList(ranked.leg, ranked.query_index, hits[:depth])


def cases_for(retriever: Retriever, pseudo: list[Pseudo], depth: int) -> list[calibrate.Case]:
    embed = retriever.embedder.embed_batch
    vectors = embed([p.query for p in pseudo])
    masked = [p for p in pseudo if p.masked is not None]
    rows = retriever_rows(retriever, [p.chunk_id for p in masked])
    texts = {
        id(p): embedding_text(rows[p.chunk_id]["title"], p.masked or "", rows[p.chunk_id]["metadata"])
        for p in masked
    }
    masked_vectors = embed(list(texts.values())) if masked else np.zeros((0, 1))
    masked_at = {key: i for i, key in enumerate(texts)}
    index = retriever.bm25_index()
    cases = []
    for i, p in enumerate(pseudo):
        lists, _ = retriever.legs([p.query], "hybrid", vectors=vectors[i : i + 1], depth=depth)
        if p.masked is not None:
            text = texts[id(p)]
            v, q = masked_vectors[masked_at[id(p)]], vectors[i]
            distance = float(1.0 - np.dot(v, q) / (np.linalg.norm(v) * np.linalg.norm(q) or 1.0))
            score = index.score_text(p.query, text)
            lists = [_replace(r, p.chunk_id, score if r.leg == "bm25" else distance, depth) for r in lists]
        cases.append(calibrate.Case(lists, {str(p.chunk_id): 1}))
    return cases


def question_cases(retriever: Retriever, items: list[Any], depth: int) -> list[calibrate.Case]:
    """Document-level cases (keys: document sources) of questions with a known gold document."""
    vectors = retriever.embedder.embed_batch([i.question for i in items])
    return [
        calibrate.Case(
            retriever.legs([i.question], "hybrid", vectors=vectors[n : n + 1], depth=depth)[0],
            {i.gold_doc: 1},
        )
        for n, i in enumerate(items)
    ]


def retriever_rows(retriever: Retriever, ids: list[int]) -> dict[int, dict[str, Any]]:
    from openbook.db import chunks as chunk_rows

    return chunk_rows.by_ids(retriever.store, ids) if ids else {}


def run(
    retriever: Retriever,
    kind: Kind = "masked",
    queries: int = 200,
    *,
    teacher: Any = None,
    questions: Path | None = None,
    seed: int = 0,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Calibrate; return the result (not yet stored)."""
    from openbook.db import chunks as chunk_rows

    started = time.perf_counter()
    rows = chunk_rows.all_for_tuning(retriever.store)
    if len(rows) < 20:
        raise OpenbookError(
            f"The library has {len(rows)} chunks; calibration needs at least 20",
            hint="add documents first (openbook ingest PATH); the safe default fusion applies meanwhile",
        )
    key: Callable[[int], str] = str
    kept: list[dict[str, str]] | None = None
    depth = retriever.settings.candidates
    if kind == "questions":
        if questions is None:
            raise OpenbookError("Calibrating on your questions needs them", hint="--questions FILE")
        from ..finetune.library_data import read_questions

        sources = chunk_rows.sources(retriever.store)
        items = read_questions(questions, set(sources.values()), need_answers=False)
        if len(items) < 10:
            raise OpenbookError(f"{questions} has {len(items)} questions; calibration needs at least 10")
        say(f"Scoring {len(calibrate.grid())} fusion candidates on {len(items)} of your questions…")
        cases, key, n_queries = question_cases(retriever, items, depth), sources.__getitem__, len(items)
        kept = [{"question": i.question, "gold_doc": str(i.gold_doc)} for i in items]  # for a rerun
    elif kind == "masked":
        pseudo = masked_queries(rows, queries, seed)
    else:
        if teacher is None:
            raise OpenbookError(
                "Generated pseudo-queries need a model", hint="set models.teacher or --teacher"
            )
        sampled = random.Random(seed).sample(rows, min(queries, len(rows)))
        pseudo = generated_queries(teacher, as_hits(sampled), say)
    if kind != "questions":
        if len(pseudo) < 10:
            raise OpenbookError(f"Only {len(pseudo)} usable pseudo-queries; calibration needs at least 10")
        say(f"Scoring {len(calibrate.grid())} fusion candidates on {len(pseudo)} {kind} pseudo-queries…")
        cases, n_queries = cases_for(retriever, pseudo, depth), len(pseudo)
    default = retriever.settings.default_fusion()
    # The gate always comes from masked pseudo-queries: unlike for fusion, their distances follow
    # real questions' (docs/benchmarks.md, "Calibrating the evidence gate"), and they need no model.
    gate_cases = (
        cases if kind == "masked" else cases_for(retriever, masked_queries(rows, gate.QUERIES, seed), depth)
    )
    evidence_gate = gate.calibrate(gate_cases)
    scores = calibrate.sweep(cases, key, [*calibrate.grid(), default])
    chosen, figures = calibrate.choose(scores, default)
    legs = {leg: round(calibrate.mean(calibrate.per_case(calibrate.leg_only(leg), cases, key)), 4)
            for leg in ("bm25", "vector")}  # fmt: skip
    return {
        "fusion": chosen.model_dump(),
        "label": chosen.label(),
        "default": default.label(),
        "kind": kind,
        "queries": n_queries,
        "chunks": len(rows),
        "figures": {**figures, **{f"{k}_ndcg": v for k, v in legs.items()}},
        "gate": evidence_gate,
        "seed": seed,
        "questions": kept,
        "embedding": retriever.embedder.identity.model,
        "seconds": round(time.perf_counter() - started, 1),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save(retriever: Retriever, result: dict[str, Any]) -> None:
    meta.put(retriever.store, CALIBRATION_KEY, result)


def forget(retriever: Retriever) -> bool:
    had = meta.get(retriever.store, CALIBRATION_KEY) is not None
    if had:
        meta.put(retriever.store, CALIBRATION_KEY, None)
    return had


def rerun_if_stale(retriever: Retriever, say: Callable[[str], None]) -> dict[str, Any] | None:
    """After the corpus has changed size a lot: calibrate again the way it was done — on the
    stored questions, or with masked pseudo-queries — and store it; a calibration that needs the
    teacher is left to the user (turns use the safe default meanwhile, and say so)."""
    import tempfile

    from openbook.db import chunks as chunk_rows

    from ..retrieval.retriever import stale

    stored = meta.get(retriever.store, CALIBRATION_KEY)
    if not stored or not stale(stored, chunk_rows.count(retriever.store)):
        return None
    was = f"{stored['chunks']} chunks when fusion was calibrated"
    if stored.get("kind") == "generated":
        say(f"The library changed size a lot ({was}); turns use the safe default until you rerun "
            "`openbook tune retrieval`.")  # fmt: skip
        return None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            qfile = None
            if stored.get("questions"):
                qfile = Path(tmp) / "questions.jsonl"
                qfile.write_text("".join(json.dumps(q) + "\n" for q in stored["questions"]))
            result = run(retriever, stored["kind"], stored.get("queries") or 200, questions=qfile,
                         seed=stored.get("seed", 0))  # fmt: skip
    except OpenbookError as exc:
        say(f"The library changed size a lot ({was}) and calibrating again failed: {exc.message}; "
            "turns use the safe default.")  # fmt: skip
        return None
    save(retriever, result)
    say(f"The library changed size a lot ({was}): fusion calibrated again, now {result['label']}.")
    return result
