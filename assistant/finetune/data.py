"""RAFT-style training data for the answer model (Zhang et al. 2024, gorilla ``raft.py``).

Per question: the oracle chunk (the gold document's chunk that holds the answer) and D
distractors — hard negatives from hybrid retrieval of the question (chunks of other documents),
topped up with random chunks — shuffled and numbered. With probability ``p_oracle`` the oracle
stays; otherwise it is left out and the target is the decline. The prompt is exactly what the
answerer sends at run time (system prompt + ``prompts/answerer.md``, passages fenced) in one of
two evidence formats:

- ``facts``: the distilled note the agent pipeline gives its answerer (``distiller.extract``:
  the sentences closest to the question, numbered by passage);
- ``passages``: numbered chunks, as ``--plain`` retrieval gives them.

The target is short: the answer span and its citation, ``ANSWER [n]`` — or the decline when the
answer is not in what the model was shown. ``target="mixed"`` (recipe v3) answers in the form the
question asks for (``agents/kit/questions.py``): a why/how question gets the sentence holding the
answer, cited; a yes/no answer (CoQA's, checked against its rationale) ``Yes [n]`` / ``No [n]``;
any other question the span. ``lost_answer="skip"`` drops the examples whose oracle was shown but
whose note lost the answer sentence: as declines they teach declining when the answer was
there. Splits are by article (``qa_data.split_of``): only ``train`` articles are used, and a
share of them is held out for validation.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from openbook.agents.answerer import AnswerInput
from openbook.agents.distiller import DistillInput, extract
from openbook.agents.kit.evidence import Hit, Passage, number
from openbook.agents.kit.questions import question_type
from openbook.prompts import render, text

from ..errors import OpenbookError
from ..evaluation.qa_data import Half, QADataset, QAItem, select, split_of
from ..evaluation.qa_metrics import has_answer
from ..retrieval.retriever import Retriever
from .examples import Example

Format = Literal["facts", "passages"]
FORBIDDEN = ("squaddev", "dev-v1.1", "dev_v1.1")  # SQuAD v1.1 dev stays unseen


@dataclass
class RaftConfig:
    distractors: int = 3
    p_oracle: float = 0.8
    facts_share: float = 0.6  # the rest are in the passages format
    passage_words: int = 150  # passages longer than this are cut (CPU training cost); 0: never
    val_share: float = 0.1  # of training articles held out for validation loss
    seed: int = 0
    target: Literal["answer", "quote", "mixed"] = "answer"  # "SPAN [n]", quote first, or by question
    lost_answer: Literal["decline", "skip"] = "decline"  # the oracle shown, the note without its answer
    no_oracle: Literal["decline", "answer"] = "decline"  # RAFT's original: answer from memory
    half: Literal["both", "first", "second"] = "both"  # of each article's questions


def refuse_forbidden(path: Path) -> None:
    if any(f in path.name.lower() for f in FORBIDDEN):
        raise OpenbookError(
            f"{path.name} is SQuAD v1.1 dev, which Openbook never trains or tunes on",
            hint="use the SQuAD-Shifts sets (bench/fetch_squad_shifts.py) or your own questions",
        )


def prompt_messages(question: str, evidence: list[Passage]) -> list[dict[str, str]]:
    """The answerer's messages for this evidence, as at run time."""
    user = render("answerer", AnswerInput(question=question, passages=evidence).model_dump())
    return [{"role": "system", "content": text("system")}, {"role": "user", "content": user}]


def _cut(hit: Hit, words: int, answers: list[str] | None = None) -> Hit:
    """At most ``words`` words of the chunk; for the oracle, a window around the first answer
    found, so that cutting (a CPU-cost measure) does not cut the answer away."""
    parts = hit.text.split()
    if words <= 0 or len(parts) <= words:
        return hit
    start = 0
    for answer in answers or []:
        at = hit.text.lower().find(answer.lower())
        if at >= 0:
            centre = len(hit.text[:at].split())
            start = max(0, min(centre - words // 2, len(parts) - words))
            break
    return hit.model_copy(update={"text": " ".join(parts[start : start + words])})


SENTENCE = re.compile(r"(?<=[.!?])\s+")


def quoted(sentence_of: str, answer: str) -> str:
    """The sentence of a passage that holds the answer (the whole passage if none does)."""
    for sentence in SENTENCE.split(sentence_of):
        if has_answer(sentence, [answer]):
            return " ".join(sentence.split())
    return " ".join(sentence_of.split())


YES_NO = ("yes", "no")
EXPLANATION_WORDS = 60  # a longer "sentence" is a passage the split failed on: the span instead


def needs(item: QAItem, answer: str) -> list[str]:
    """What a passage must hold to answer with ``answer``: the answer itself, or for a yes/no
    answer the rationale it rests on (where the set gives one)."""
    if answer.lower() in YES_NO and item.rationales:
        return item.rationales
    return [answer]


def holds(text: str, item: QAItem) -> bool:
    return any(has_answer(text, needs(item, a)) for a in item.answers)


def _target(item: QAItem, evidence: list[Passage], cfg: RaftConfig) -> tuple[str, bool]:
    for p in evidence:
        for answer in item.answers:
            if not has_answer(p.text, needs(item, answer)):
                continue
            if cfg.target == "quote":
                return f'Quote [{p.n}]: "{quoted(p.text, answer)}"\nAnswer: {answer} [{p.n}]', True
            if cfg.target == "mixed" and answer.lower() in YES_NO:
                return f"{answer.capitalize()} [{p.n}]", True
            if cfg.target == "mixed" and question_type(item.question) == "explanatory":
                sentence = quoted(p.text, answer)
                if len(sentence.split()) <= EXPLANATION_WORDS:
                    return f"{sentence} [{p.n}]", True
            return f"{answer} [{p.n}]", True
    if cfg.no_oracle == "answer" and item.answers:
        return item.answers[0], False  # RAFT: the answer, from what training put in the weights
    return text("decline"), False


def embedding_once(embed: Callable[[list[str]], Any]) -> Callable[[list[str]], Any]:
    """``embed`` that embeds each text once: a chunk's sentences come back with every question of
    its article and as other questions' distractors (the note of each example embeds them all)."""
    import numpy as np

    memo: dict[str, Any] = {}

    def embed_new(texts: list[str]) -> Any:
        new = [t for t in dict.fromkeys(texts) if t not in memo]
        if new:
            memo.update(zip(new, embed(new), strict=True))
        return np.stack([memo[t] for t in texts])

    return embed_new


class Corpus(Protocol):
    """What the data builder needs of a dataset: which document a stored chunk belongs to."""

    def doc_of_source(self, source: str) -> str: ...


def examples_for(
    ds: Corpus,
    items: list[QAItem],
    retriever: Retriever,
    embed: Callable[[list[str]], Any],
    doc_chunks: dict[str, list[Hit]],
    cfg: RaftConfig,
    tally: dict[str, int] | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> Iterator[Example]:
    """The examples of ``items``; ``tally`` counts the ones left out, and why; ``say``: progress."""
    rng = random.Random(cfg.seed)
    tally = {} if tally is None else tally
    every = [h for hits in doc_chunks.values() for h in hits]
    embed = embedding_once(embed)
    started = time.monotonic()
    for done, item in enumerate(items):
        if done and done % 250 == 0:
            left = (time.monotonic() - started) / done * (len(items) - done)
            say(f"  {done}/{len(items)} questions, about {left / 60:.0f} min left")
        gold = doc_chunks.get(item.gold_doc or "", [])
        oracle = next((h for h in gold if holds(h.text, item)), None)
        if oracle is None:
            tally["answer_not_in_a_chunk"] = tally.get("answer_not_in_a_chunk", 0) + 1
            continue  # the answer is not in any stored chunk (cut at a chunk boundary)
        negatives = [
            h for h in retriever.retrieve([item.question], cfg.distractors * 3)
            if ds.doc_of_source(h.source) != item.gold_doc
        ][: cfg.distractors]  # fmt: skip
        while len(negatives) < cfg.distractors and every:
            h = rng.choice(every)
            if ds.doc_of_source(h.source) != item.gold_doc and h not in negatives:
                negatives.append(h)
        keep = rng.random() < cfg.p_oracle
        chosen = [*(([oracle]) if keep else []), *negatives]
        rng.shuffle(chosen)
        fmt: Format = "facts" if rng.random() < cfg.facts_share else "passages"
        spans = [x for a in item.answers for x in needs(item, a)]
        passages = number([_cut(h, cfg.passage_words, spans if h is oracle else None) for h in chosen])
        if fmt == "facts":
            note = extract(embed, DistillInput(question=item.question, passages=passages))
            evidence = [Passage(n=f.source, text=f.fact) for f in note.facts]
        else:
            evidence = passages
        target, answerable = _target(item, evidence, cfg)
        if keep and not answerable and cfg.lost_answer == "skip":
            tally["note_lost_the_answer"] = tally.get("note_lost_the_answer", 0) + 1
            continue
        yield Example(
            messages=prompt_messages(item.question, evidence),
            target=target,
            id=item.id,
            group=item.group,
            format=fmt,
            oracle=keep,
            answerable=answerable,
            kind=question_type(item.question),
        )


def _draw(group: str) -> float:
    digest = hashlib.sha256(f"val\x00{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_validation(group: str, share: float) -> bool:
    return _draw(group) < share


def validation_groups(groups: set[str], share: float) -> set[str]:
    """The articles/documents held out (a seeded draw by name); at least one when there are two
    or more, however small the library."""
    held = {g for g in groups if is_validation(g, share)}
    if not held and len(groups) >= 2 and share > 0:
        held = {min(groups, key=_draw)}
    return held


def write_split(examples: list[Example], out_dir: Path, val_share: float) -> dict[str, Any]:
    """train.jsonl and val.jsonl (by article), and what they hold."""
    out_dir.mkdir(parents=True, exist_ok=True)
    held = validation_groups({e.group for e in examples}, val_share)
    train = [e for e in examples if e.group not in held]
    val = [e for e in examples if e.group in held]
    for name, rows in (("train", train), ("val", val)):
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for e in rows:
                fh.write(json.dumps(e.model_dump()) + "\n")
    stats = {
        "train": len(train),
        "val": len(val),
        "oracle_kept": round(sum(e.oracle for e in examples) / max(len(examples), 1), 3),
        "answerable_targets": round(sum(e.answerable for e in examples) / max(len(examples), 1), 3),
        "formats": {f: sum(e.format == f for e in examples) for f in ("facts", "passages")},
        "question_types": {k: sum(e.kind == k for e in examples) for k in sorted({e.kind for e in examples})},
        "groups": {"train": len({e.group for e in train}), "val": len({e.group for e in val})},
    }
    (out_dir / "data.json").write_text(json.dumps(stats, indent=2))
    return stats


def chunks_by_document(store: Any, corpus: Corpus) -> dict[str, list[Hit]]:
    """Every stored chunk as a hit, grouped by the corpus's document id of its source."""
    from openbook.db import chunks as chunk_rows

    out: dict[str, list[Hit]] = {}
    for r in chunk_rows.with_vectors(store):
        hit = Hit(
            chunk_id=int(r["id"]), document_id=0, source=r["source"], title=r["title"], ordinal=0,
            text=r["text"], metadata={}, rank=1, fused_score=0.0,
        )  # fmt: skip
        out.setdefault(corpus.doc_of_source(r["source"]), []).append(hit)
    return out


def training_items(ds: QADataset, per_set: int | None, seed: int = 0, half: Half = "both") -> list[QAItem]:
    """Answerable questions of the training articles only (never the test split), of one half
    of each article's questions if asked; with ``per_set``, a seeded sample spread over all
    training articles."""
    items = [i for i in select(ds, "train", half=half) if i.answerable and i.gold_doc]
    assert all(split_of(ds.name, i.group) == "train" for i in items)
    if per_set and per_set < len(items):
        items = sorted(random.Random(seed).sample(items, per_set), key=lambda i: items.index(i))
    return items


def build(
    datasets: list[Path],
    out_dir: Path,
    settings: Any,
    embedder: Any,
    *,
    per_set: int | None = None,
    cfg: RaftConfig | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """RAFT examples from the training articles of each dataset, written as train/val JSONL."""
    from ..evaluation.qa_data import load_qa
    from ..evaluation.retrieval_eval import eval_schema
    from ..evaluation.schemas import ensure_ingested, isolated_settings
    from ..store import Store

    cfg = cfg or RaftConfig()
    examples: list[Example] = []
    left_out: dict[str, int] = {}
    for path in datasets:
        refuse_forbidden(path)
        ds = load_qa(path)
        if ds.docs_dir is not None:
            raise OpenbookError("finetune data reads SQuAD-format JSON for now", hint=f"{path} is a folder")
        s = isolated_settings(settings, eval_schema(ds.as_retrieval(), settings, embedder))
        with Store(s, embedding=embedder.identity) as store:
            store.check_embedding(embedder.identity)
            ensure_ingested(store, embedder, ds, s, say)
            retriever = Retriever(store, embedder, s.retrieval)
            doc_chunks = chunks_by_document(store, ds)
            items = training_items(ds, per_set, cfg.seed, cfg.half)
            say(f"{ds.name}: {len(items)} training questions")
            found = examples_for(ds, items, retriever, embedder.embed_batch, doc_chunks, cfg, left_out, say)
            examples += list(found)
    stats = write_split(examples, out_dir, cfg.val_share)
    stats["left_out"] = left_out
    stats["datasets"] = [p.name for p in datasets]
    stats["config"] = cfg.__dict__
    (out_dir / "data.json").write_text(json.dumps(stats, indent=2))
    return stats
