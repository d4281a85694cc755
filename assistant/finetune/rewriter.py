"""``openbook finetune rewriter``: a query rewriter learned from retrieval feedback.

For questions whose right document is known (the training articles of a QA set, or a teacher's
questions about the library's own chunks), the current rewriter writes several rewrites (its
greedy one and ``samples - 1`` sampled ones, the rewrite step's prompt and schema); each is scored
by how well the question *plus* that rewrite retrieves the right document, exactly as a turn
searches (hybrid legs, the fusion in force, the anchor and rewrite weight): nDCG@10; ties are
broken by how well the rewrite finds that document by itself. The best rewrite of each question is
kept if it does at least as well as the question alone and finds the document by itself within
the top 10 (rejection sampling / best-of-n: a rewrite like "when" that merely does no harm teaches
nothing), and a LoRA on the bundled base is trained on the kept ones with the shared
trainer. A second round samples from the first round's model and trains again on the better of
the two rounds' best rewrites. The result is a GGUF adapter loaded like the reader.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openbook.agents.kit.llm import ChatOptions, ModelError, structured
from openbook.agents.rewriter import QueryLikelihood, Rewrite, RewriteInput, RewriteOutput

from ..evaluation.metrics import ndcg_at
from ..retrieval.fusion import anchored
from ..settings import Mix, PipelineSettings
from ..tuning.calibrate import Case, top_keys
from .examples import Example


@dataclass
class Question:
    id: str
    text: str
    relevant: dict[str, int]  # keys (document ids) -> grade
    group: str  # the document/article: the train/validation split goes by it


@dataclass
class Scored:
    keywords: str
    hypothetical_answer: str
    ndcg: float  # question + this rewrite
    own: float = 0.0  # this rewrite alone

    def texts(self, question: str) -> list[str]:
        return [t for t in (self.keywords, self.hypothetical_answer) if t.strip() and t.strip() != question]

    def target(self) -> str:
        return json.dumps({"keywords": self.keywords, "hypothetical_answer": self.hypothetical_answer})


@dataclass
class Record:
    id: str
    question: str
    group: str
    alone: float  # nDCG@10 of the question alone
    candidates: list[Scored] = field(default_factory=list)

    def best(self) -> Scored | None:
        return max(self.candidates, key=lambda c: (c.ndcg, c.own), default=None)

    def usable(self) -> Scored | None:
        """The best rewrite if it is worth learning: no worse than the question, and on target."""
        best = self.best()
        return best if best is not None and best.ndcg >= self.alone and best.own > 0 else None


def candidates(model: Any, question: str, samples: int, seed: int) -> Iterator[RewriteOutput]:
    """The greedy rewrite, then ``samples - 1`` sampled ones (temperature 0.8), deduplicated."""
    step = Rewrite()
    _prompt, messages = step.messages(RewriteInput(question=question))
    seen: set[tuple[str, str]] = set()
    for i in range(samples):
        opts = ChatOptions(temperature=0.0 if i == 0 else 0.8, seed=seed + i, max_tokens=200)
        try:
            out, _ = structured(model, messages, RewriteOutput, options=opts)
        except ModelError:
            continue
        key = (out.keywords.strip(), out.hypothetical_answer.strip())
        if key not in seen:
            seen.add(key)
            yield out


class Scorer:
    """nDCG@10 of a question with and without extra search texts, through the retriever."""

    def __init__(self, retriever: Any, key: Callable[[int], str], depth: int = 50) -> None:
        self.retriever, self.key, self.depth = retriever, key, depth
        self.fusion, _ = retriever.fusion()

    def _top(
        self, lists: list[Any], plain: bool = False, read: Sequence[int] = (), mix: Mix | None = None
    ) -> list[str]:
        """The first 10 documents: fused plainly, or as a turn fuses a question and its rewrites
        (``read``: a reading rewriter's; ``mix``: (anchor rank, rewrite weight, order weight)
        instead of the settings')."""
        s = self.retriever.settings
        if plain:
            fused = self.fusion.fuse(lists)
        else:
            if mix is None:
                mix = s.mix(bool(read))
            rank, weight, order = mix
            fused = anchored(self.fusion, lists, 1, rank, weight, list(read), order if read else 0.0)
        return top_keys(fused, self.key, 10)

    def _ndcg(self, lists: list[Any], relevant: dict[str, int], plain: bool = False) -> float:
        return ndcg_at(self._top(lists, plain), relevant, 10)

    def _extra(self, texts: list[str]) -> list[Any]:
        """The lists of ``texts``, numbered after the question's (query 0)."""
        extra, _ = self.retriever.legs(texts, "hybrid", depth=self.depth)
        for r in extra:
            r.query_index += 1
        return extra

    def hit_and_ndcg(self, case: Case, texts: list[str], read: Sequence[int] = ()) -> tuple[float, float]:
        """hit@5 and nDCG@10 of the question plus ``texts`` (none: the question alone), fused
        as a turn fuses them (``read``: texts from a reading rewriter, and its order)."""
        return self.mixes(case, texts, read, [None])[0]

    def mixes(
        self, case: Case, texts: list[str], read: Sequence[int], mixes: Sequence[Mix | None]
    ) -> list[tuple[float, float]]:
        """``hit_and_ndcg`` under each of ``mixes`` (None: the settings'), searching once."""
        lists = case.lists + self._extra(texts)
        out = []
        for mix in mixes:
            top = self._top(lists, read=read, mix=mix)
            out.append((float(any(k in case.relevant for k in top[:5])), ndcg_at(top, case.relevant, 10)))
        return out

    def question(self, q: Question) -> Case:
        lists, _ = self.retriever.legs([q.text], "hybrid", depth=self.depth)
        return Case(lists, q.relevant)

    def alone(self, case: Case) -> float:
        return self._ndcg(case.lists, case.relevant)

    def with_texts(self, case: Case, texts: list[str]) -> tuple[float, float]:
        """nDCG@10 of the question plus ``texts``, and of ``texts`` alone."""
        if not texts:
            return self.alone(case), 0.0
        extra = self._extra(texts)
        own = self._ndcg(extra, case.relevant, plain=True)
        return self._ndcg(case.lists + extra, case.relevant), own


def sample_round(
    model: Any,
    questions: list[Question],
    scorer: Scorer,
    samples: int,
    seed: int,
    say: Callable[[str], None] = lambda _m: None,
) -> list[Record]:
    records = []
    for n, q in enumerate(questions, 1):
        case = scorer.question(q)
        rec = Record(q.id, q.text, q.group, scorer.alone(case))
        for out in candidates(model, q.text, samples, seed):
            s = Scored(out.keywords.strip(), out.hypothetical_answer.strip(), 0.0)
            s.ndcg, s.own = scorer.with_texts(case, s.texts(q.text))
            rec.candidates.append(s)
        records.append(rec)
        if n % 25 == 0 or n == len(questions):
            summary = round_summary(records)
            say(f"  {n}/{len(questions)} questions: {json.dumps(summary)}")
    return records


def round_summary(records: list[Record]) -> dict[str, float]:
    """Mean nDCG@10: question alone, with the greedy rewrite, with the best of the samples."""
    n = max(len(records), 1)
    greedy = [r.candidates[0].ndcg if r.candidates else r.alone for r in records]
    best = [max(r.alone, b.ndcg) if (b := r.best()) else r.alone for r in records]
    return {
        "questions": len(records),
        "alone": round(sum(r.alone for r in records) / n, 4),
        "greedy": round(sum(greedy) / n, 4),
        "best_of_n": round(sum(best) / n, 4),
        "improved": sum(1 for r in records if (b := r.best()) is not None and b.ndcg > r.alone),
        "kept": sum(1 for r in records if r.usable() is not None),
    }


def merge_rounds(*rounds: list[Record]) -> list[Record]:
    """Per question, every round's candidates together (so the best of all rounds is kept)."""
    out: dict[str, Record] = {}
    for records in rounds:
        for r in records:
            if r.id in out:
                out[r.id].candidates += r.candidates
            else:
                out[r.id] = Record(r.id, r.question, r.group, r.alone, list(r.candidates))
    return list(out.values())


def examples(records: list[Record]) -> list[Example]:
    """One training example per question with a usable best rewrite."""
    step = Rewrite()
    out = []
    for r in records:
        best = r.usable()
        if best is None:
            continue
        _prompt, messages = step.messages(RewriteInput(question=r.question))
        out.append(
            Example(
                messages=[m.model_dump(include={"role", "content"}) for m in messages],
                target=best.target(),
                id=r.id,
                group=r.group,
                format="rewrite",
                oracle=True,
                answerable=True,
            )
        )
    return out


def held_out(
    model: Any,
    sources: list[tuple[list[Question], Scorer]],
    trained_groups: set[str],
    say: Callable[[str], None] = lambda _m: None,
    pipeline: PipelineSettings | None = None,
) -> dict[str, Any]:
    """The trained rewriter on the questions whose document it never trained on: hit@5 and
    nDCG@10 of the question alone and of the question plus the rewrite step's output (a reading
    rewriter reads the scorer's library, as in a turn, as many hits as ``pipeline`` says, and
    each candidate of ``reading`` is scored too)."""
    from ..evaluation.rewrites import rewrite
    from ..turn import LibraryAccess
    from . import reading

    pipeline = pipeline or PipelineSettings()
    sums = {"alone_hit@5": 0.0, "alone_ndcg@10": 0.0, "hit@5": 0.0, "ndcg@10": 0.0}
    tally: reading.Tally | None = None  # a reading rewriter's: its settings' candidates
    n = 0
    for questions, scorer in sources:
        library = LibraryAccess(scorer.retriever.store, scorer.retriever)  # what a reading rewriter reads
        cands = reading.candidates(scorer.retriever.settings, pipeline)
        for q in questions:
            if q.group in trained_groups:
                continue
            case = scorer.question(q)
            hit, ndcg = scorer.hit_and_ndcg(case, [], [])
            sums["alone_hit@5"] += hit
            sums["alone_ndcg@10"] += ndcg
            # a turn's rewrite (a reading rewriter's order too), and a reading rewriter's at
            # every number of hits its candidates read, fewer first
            depths = reading.depths(cands) if isinstance(model, QueryLikelihood) else [cands[0].read_hits]
            reads = {hits: rewrite(model, q.text, library, hits) for hits in depths}
            done = reads[cands[0].read_hits]
            if done.order:  # a reading rewriter: every candidate
                scores: dict[reading.Candidate, tuple[float, float]] = {}
                for hits, read in reads.items():
                    mine = [c for c in cands if c.read_hits == hits]
                    got = scorer.mixes(case, read.texts, read.order, [c.mix for c in mine])
                    scores |= zip(mine, got, strict=True)
                tally = tally or reading.Tally(cands)
                tally.add([scores[c] for c in cands])
                hit, ndcg = scores[cands[0]]  # the first candidate is the settings' own
            else:
                hit, ndcg = scorer.hit_and_ndcg(case, done.texts, [])
            sums["hit@5"] += hit
            sums["ndcg@10"] += ndcg
            n += 1
    out: dict[str, Any] = {"questions": n}
    out |= {k: round(v / max(n, 1), 4) for k, v in sums.items()}
    out["hit@5_points"] = round(100 * (out["hit@5"] - out["alone_hit@5"]), 1)
    say(f"Held out ({n} questions on documents never trained on): {json.dumps(out)}")
    if tally is not None:
        out["reading"] = reading.choose(tally)
        say(f"Reading settings for this library: {json.dumps(out['reading'])}")
    return out


MIN_HELD_OUT = 10  # fewer held-out questions than this: nothing measured, nothing installed
TOLERANCE_POINTS = 1.0  # the learned rewrite may cost at most this much hit@5 against the question


def install_verdict(check: dict[str, Any]) -> str | None:
    """Why the learned rewriter must not become the library's rewriter (None: it may)."""
    n = check.get("questions", 0)
    if n < MIN_HELD_OUT:
        return (
            f"only {n} held-out questions (at least {MIN_HELD_OUT} needed) to check that the learned "
            "rewriter does not hurt retrieval"
        )
    if check["hit@5_points"] < -TOLERANCE_POINTS:
        return (
            f"on {n} held-out questions it lowers hit@5 from {check['alone_hit@5']:.3f} (the question "
            f"alone) to {check['hit@5']:.3f} ({check['hit@5_points']:+.1f} points; at most "
            f"-{TOLERANCE_POINTS:g} allowed)"
        )
    return None


def write_data(exs: list[Example], out_dir: Path, val_share: float = 0.1, seed: int = 0) -> dict[str, int]:
    """train.jsonl / val.jsonl split by group (a document never in both)."""
    groups = sorted({e.group for e in exs})
    random.Random(seed).shuffle(groups)
    val_groups = set(groups[: max(1, int(len(groups) * val_share))]) if len(groups) > 1 else set()
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {"train": 0, "val": 0}
    with (out_dir / "train.jsonl").open("w") as tr, (out_dir / "val.jsonl").open("w") as va:
        for e in exs:
            split = "val" if e.group in val_groups else "train"
            (va if split == "val" else tr).write(e.model_dump_json() + "\n")
            counts[split] += 1
    return counts


def save_records(records: list[Record], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(r)) + "\n" for r in records))


def load_records(path: Path) -> list[Record]:
    out = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        row["candidates"] = [Scored(**c) for c in row["candidates"]]
        out.append(Record(**row))
    return out
