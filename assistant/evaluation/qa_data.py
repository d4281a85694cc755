"""Question-answering datasets for ``openbook eval qa`` and ``openbook finetune data``.

Two formats, one shape (``QADataset``):
- SQuAD-format JSON: each paragraph becomes a document, its questions' answers are the gold
  answers and the paragraph is the gold document.
- a folder with ``questions.jsonl`` (``{"id", "question", "answers": [...], "gold_doc"?,
  "answerable"?}``) and the documents under ``docs/``; ``gold_doc`` is a path relative to
  ``docs/``. ``questions.jsonl`` itself is never ingested.

Held-out splits are by article (by document where a set has fewer than ``MIN_ARTICLES``
articles, as SQuAD-Shifts' reddit set, whose comments share one title): ``split_of`` assigns a
group to ``test`` or ``train`` from a hash of its name, so the same article is always on the same
side, for every command, on every machine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from .datasets import MIN_ARTICLES, DatasetError, RetrievalDataset, _digest, clean_title

Split = Literal["all", "train", "test"]
Half = Literal["both", "first", "second"]
TEST_SHARE = 0.2  # of articles held out for testing


class QAItem(BaseModel):
    id: str
    question: str
    answers: list[str] = Field(default_factory=list)
    gold_doc: str | None = None  # document id (SQuAD: "a-p"; folder: path under docs/)
    # multi-hop (folder datasets): every document a full answer needs, gold_doc among them
    gold_docs: list[str] = Field(default_factory=list)
    answerable: bool = True
    group: str = ""  # the article (or document) it belongs to, for splits
    # the span of the passage each answer rests on, where the set gives one (CoQA's rationales):
    # a yes/no answer is checked against it, as a span answer is checked against itself
    rationales: list[str] = Field(default_factory=list)


@dataclass
class QADataset:
    name: str
    fingerprint: str
    docs: dict[str, tuple[str, str]] = field(default_factory=dict)  # SQuAD: id -> (title, text)
    docs_dir: Path | None = None  # folder datasets: the documents to ingest
    items: list[QAItem] = field(default_factory=list)

    def as_retrieval(self) -> RetrievalDataset:
        """The documents as a retrieval dataset (SQuAD only), to ingest into an isolated store."""
        ds = RetrievalDataset(self.name, self.fingerprint, docs=self.docs)
        for item in self.items:
            ds.queries[item.id] = item.question
            if item.gold_doc:
                ds.qrels[item.id] = {item.gold_doc: 1}
        return ds

    def gold_text(self, item: QAItem) -> str | None:
        if item.gold_doc is None:
            return None
        if self.docs_dir is not None:
            path = self.docs_dir / item.gold_doc
            return path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
        doc = self.docs.get(item.gold_doc)
        return doc[1] if doc else None

    def gold_title(self, item: QAItem) -> str:
        if item.gold_doc and item.gold_doc in self.docs:
            return self.docs[item.gold_doc][0]
        return Path(item.gold_doc).stem if item.gold_doc else ""

    def doc_of_source(self, source: str) -> str:
        """The dataset's document id of a stored chunk's source."""
        if self.docs_dir is not None:
            try:
                return str(Path(source).resolve().relative_to(self.docs_dir.resolve()))
            except ValueError:
                return source
        return source.split(":", 1)[1] if ":" in source else source


def split_of(dataset: str, group: str, test_share: float = TEST_SHARE) -> Literal["train", "test"]:
    digest = hashlib.sha256(f"{dataset}\x00{group}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_share else "train"


def half_of(item_id: str) -> Literal["first", "second"]:
    """A seeded draw of a question into one of two halves, within whatever article it is in: the
    corpus fine-tuning experiment trains on one half of an article's questions and tests on the
    other."""
    digest = hashlib.sha256(f"half\x00{item_id}".encode()).digest()
    return "first" if digest[0] < 128 else "second"


def select(
    ds: QADataset,
    split: Split = "all",
    limit: int | None = None,
    half: Half = "both",
    kind: str | None = None,
) -> list[QAItem]:
    """The dataset's items in file order, of one split (and half, and question type: the rule
    of ``agents/kit/questions.py``), the first ``limit``."""
    from openbook.agents.kit.questions import question_type

    items = [
        i
        for i in ds.items
        if (split == "all" or split_of(ds.name, i.group) == split)
        and (half == "both" or half_of(i.id) == half)
        and (kind is None or question_type(i.question) == kind)
    ]
    return items if limit is None else items[:limit]


def load_qa(path: Path) -> QADataset:
    if path.is_dir():
        return _load_folder(path)
    if path.suffix.lower() == ".json":
        return _load_squad(path)
    raise DatasetError(
        f"{path} is neither SQuAD-format JSON nor a folder with questions.jsonl and docs/",
        hint="see `openbook eval qa --help` for the two formats",
    )


def _load_squad(path: Path) -> QADataset:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path} is not SQuAD-format JSON (expected a 'data' list)") from exc
    name = path.stem.removesuffix("_v1.0")
    ds = QADataset(f"squad-{path.stem}", _digest([path]))
    by_article = len(data) >= MIN_ARTICLES
    seen: dict[str, str] = {}
    for a, article in enumerate(data):
        title = clean_title(str(article.get("title", "")))
        for p, para in enumerate(article.get("paragraphs", [])):
            context = para["context"]
            doc_id = seen.setdefault(context, f"{a}-{p}")
            ds.docs.setdefault(doc_id, (title, context))
            group = f"{name}/{title}" if by_article else f"{name}/{doc_id}"
            for qa in para.get("qas", []):
                answers = list(dict.fromkeys(x["text"] for x in qa.get("answers", []) if x.get("text")))
                why = list(dict.fromkeys(x["rationale"] for x in qa.get("answers", []) if x.get("rationale")))
                ds.items.append(
                    QAItem(
                        id=str(qa["id"]),
                        question=qa["question"],
                        answers=answers,
                        gold_doc=doc_id,
                        answerable=bool(answers) and not qa.get("is_impossible", False),
                        group=group,
                        rationales=why,
                    )
                )
    return ds


def _load_folder(root: Path) -> QADataset:
    qfile, docs = root / "questions.jsonl", root / "docs"
    missing = [p.name for p in (qfile, docs) if not p.exists()]
    if missing:
        raise DatasetError(
            f"{root} is missing {' and '.join(missing)}",
            hint="a QA folder holds questions.jsonl and the documents under docs/",
        )
    files = sorted(p for p in docs.rglob("*") if p.is_file())
    # Stored chunks name their files by absolute path, so the same files elsewhere are another
    # dataset (another isolated store).
    where = hashlib.sha256(str(docs.resolve()).encode()).hexdigest()[:12]
    ds = QADataset(f"qa-{root.name}", f"{_digest([qfile, *files])}-{where}", docs_dir=docs)
    for n, line in enumerate(qfile.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = QAItem.model_validate_json(line)
        except ValidationError as exc:
            raise DatasetError(f"{qfile}:{n}: not a question line ({exc.errors()[0]['msg']})") from exc
        for gold in [item.gold_doc, *item.gold_docs]:
            if gold and not (docs / gold).exists():
                raise DatasetError(f"{qfile}:{n}: gold document {gold!r} is not under {docs}")
        item.group = item.group or item.gold_doc or item.id
        ds.items.append(item)
    if not ds.items:
        raise DatasetError(f"{qfile} holds no questions")
    return ds


def unanswerable(other: QADataset, split: Split, n: int, kind: str | None = None) -> list[QAItem]:
    """``n`` questions of another dataset (of one question type, if given), to ask of this one's
    documents: their answers are not in this library, so the right reply is a decline."""
    return [
        i.model_copy(update={"id": f"x-{i.id}", "answers": [], "gold_doc": None, "answerable": False})
        for i in select(other, split, n, kind=kind)
    ]
