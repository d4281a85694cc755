"""Retrieval datasets: BEIR folders and SQuAD-format JSON, as one shape."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OpenbookError

MIN_ARTICLES = 20  # fewer articles than this: held-out splits go by document instead
LOADER_VERSION = "2"  # part of every fingerprint: a loader change re-ingests the dataset


def clean_title(title: str) -> str:
    """SQuAD titles are page names ("Andes", "Armenian_Apostolic_Church") or, in SQuAD-Shifts'
    NYT set, article URLs: keep the words a reader would see."""
    title = title.strip()
    if "://" in title:
        slug = title.rstrip("/").rsplit("/", 1)[-1]
        title = slug.rsplit(".", 1)[0] if "." in slug else slug
        title = title.replace("-", " ")
    return title.replace("_", " ").strip()


class DatasetError(OpenbookError):
    pass


@dataclass
class RetrievalDataset:
    name: str
    fingerprint: str  # changes when the files change
    docs: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (title, text)
    queries: dict[str, str] = field(default_factory=dict)  # id -> text
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)  # query id -> doc id -> grade
    groups: dict[str, str] = field(default_factory=dict)  # query id -> article/document, for splits


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256(LOADER_VERSION.encode())
    for p in sorted(paths):
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()


def load(path: Path) -> RetrievalDataset:
    path = path.expanduser()
    if path.is_dir():
        return load_beir(path)
    if path.suffix.lower() == ".json":
        return load_squad(path)
    raise DatasetError(
        f"{path} is neither a BEIR folder nor a SQuAD .json file",
        hint="BEIR: a folder with corpus.jsonl, queries.jsonl and qrels/*.tsv",
    )


def _jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
    return rows


def load_beir(root: Path, split: str | None = None) -> RetrievalDataset:
    corpus, queries = root / "corpus.jsonl", root / "queries.jsonl"
    qrel_files = sorted((root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
    missing = [p.name for p in (corpus, queries) if not p.exists()] + ([] if qrel_files else ["qrels/*.tsv"])
    if missing:
        raise DatasetError(f"{root} is not a BEIR dataset: missing {', '.join(missing)}")
    chosen = next((p for p in qrel_files if p.stem == (split or "test")), qrel_files[0])
    ds = RetrievalDataset(f"beir-{root.name}-{chosen.stem}", _digest([corpus, queries, chosen]))
    for row in _jsonl(corpus):
        ds.docs[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    all_queries = {str(r["_id"]): r["text"] for r in _jsonl(queries)}
    with chosen.open(encoding="utf-8") as fh:
        for rel in csv.reader(fh, delimiter="\t"):
            if not rel or rel[0] in ("query-id", "query_id", "qid"):
                continue
            qid, did, grade = rel[0], rel[1], int(float(rel[2])) if len(rel) > 2 else 1
            if grade > 0 and did in ds.docs and qid in all_queries:
                ds.qrels.setdefault(qid, {})[did] = grade
    ds.queries = {q: all_queries[q] for q in ds.qrels}
    ds.groups = {q: min(rel) for q, rel in ds.qrels.items()}  # a query's document
    return ds


def load_squad(path: Path) -> RetrievalDataset:
    """Each paragraph becomes a document; a question's gold paragraph is its relevant one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path} is not SQuAD-format JSON (expected a 'data' list)") from exc
    ds = RetrievalDataset(f"squad-{path.stem}", _digest([path]))
    seen: dict[str, str] = {}
    name = path.stem.removesuffix("_v1.0")
    by_article = len(data) >= MIN_ARTICLES
    for a, article in enumerate(data):
        title = clean_title(str(article.get("title", "")))
        for p, para in enumerate(article.get("paragraphs", [])):
            context = para["context"]
            doc_id = seen.setdefault(context, f"{a}-{p}")  # identical paragraphs are one document
            ds.docs.setdefault(doc_id, (title, context))
            for qa in para.get("qas", []):
                qid = str(qa["id"])
                ds.queries[qid] = qa["question"]
                ds.qrels[qid] = {doc_id: 1}
                # The same groups as `eval qa`'s, so both commands split articles alike.
                ds.groups[qid] = f"{name}/{title}" if by_article else f"{name}/{doc_id}"
    return ds
