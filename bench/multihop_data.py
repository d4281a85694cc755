"""A multi-hop dev set of our own, built offline from SQuAD-Shifts' held-out (test) articles.

    .venv/bin/python bench/multihop_data.py --out build/multihop [--n 50] [--seed 0] [--split test]

Questions asking when something happened ("When was Istanbul University founded?" → 1453) are
paired, two paragraphs of different articles and the same verb, into

- a comparison: "Which was founded first, Istanbul University or Galatasaray High School?"
  (gold: the one whose year is earlier; "Who is older, A or B?" for births), and
- a yes/no question: "Was Istanbul University founded before Galatasaray High School?" (gold:
  yes or no, before and after alternating, so "yes" is right half of the time).

Both paragraphs are the gold documents (``gold_docs``: `gold@k` counts a question only when the
passages of both hops reached the reader); every other paragraph of the two sets' held-out
articles is in the library as a distractor. Only test-split articles are used (the reader and
rewriters train on the train split), and SQuAD v1.1 dev never. The output is a QA folder
(``questions.jsonl`` + ``docs/``) for ``openbook eval qa --dataset``; each item keeps its two
single-hop questions and answers (``hops``). ``OUT-hops`` is the same library with those
single-hop questions alone: `eval qa` on it gives the per-hop accuracy and a single-hop turn's
latency on the same documents.

``--split train`` builds a second set from the training articles instead: a check of the shapes
and the composition on passages the rules were never read against (not of the reader: it was
trained on some of those articles' questions, so its per-hop accuracy there is flattering).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import shutil
from pathlib import Path

from openbook.assistant.evaluation.qa_data import split_of

SETS = ("new_wiki", "nyt")
ROOT = Path.home() / ".cache" / "openbook" / "datasets" / "squad_shifts"
# verb in the question -> (past form for "Which ... first", how the yes/no question asks)
VERBS = {
    "born": ("born", "was"), "founded": ("founded", "was"), "established": ("established", "was"),
    "formed": ("formed", "was"), "built": ("built", "was"), "created": ("created", "was"),
    "opened": ("opened", "was"), "released": ("released", "was"), "published": ("published", "was"),
    "completed": ("completed", "was"), "launched": ("launched", "was"), "elected": ("elected", "was"),
    "begin": ("began", "did"), "start": ("started", "did"), "open": ("opened", "did"),
    "die": ("died", "did"), "end": ("ended", "did"), "close": ("closed", "did"),
}  # fmt: skip
_WAS = re.compile(
    r"^(?:when|(?:in )?(?:what|which) year) (?:was|were|is) (?P<ent>.+?) (?:first )?"
    r"(?P<verb>born|founded|established|formed|built|created|opened|released|published|completed|launched|elected)"
    r"(?: in)?\s*\??$",
    re.I,
)
_DID = re.compile(
    r"^(?:when|(?:in )?(?:what|which) year) did (?P<ent>.+?) (?P<verb>begin|start|open|die|end|close)\s*\??$",
    re.I,
)


def year(text: str) -> int | None:
    m = re.search(r"\b(\d{4})\b", text)
    return int(m.group(1)) if m else None


def entity(text: str) -> str:
    text = " ".join(text.split()).strip(" ?")
    return text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=50, help="questions (half comparisons, half yes/no)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=ROOT, help="where bench/fetch_squad_shifts.py put the sets")
    ap.add_argument("--split", choices=("test", "train"), default="test", help="whose articles (see above)")
    args = ap.parse_args()

    found, docs = [], {}
    for name in SETS:
        data = json.loads((args.data / f"{name}_v1.0.json").read_text())
        for a, art in enumerate(data["data"]):
            if split_of(name, art["title"]) != args.split:
                continue
            for p, para in enumerate(art["paragraphs"]):
                doc = f"{name}/{a:03}/{p:03}.txt"
                docs[doc] = para["context"]
                for qa in para["qas"]:
                    q = " ".join(qa["question"].split())
                    m = _WAS.match(q) or _DID.match(q)
                    answer = qa["answers"][0]["text"] if qa["answers"] else ""
                    when = year(answer)
                    if m and when:
                        found.append(
                            {"doc": doc, "article": f"{name}/{a}", "question": q, "answer": answer,
                             "year": when, "entity": entity(m.group("ent")), "verb": m.group("verb").lower()}
                        )  # fmt: skip
    rng = random.Random(args.seed)
    pairs = [
        (x, y)
        for x, y in itertools.combinations(found, 2)
        if x["verb"] == y["verb"] and x["article"] != y["article"] and x["year"] != y["year"]
        and x["entity"].lower() != y["entity"].lower()
    ]  # fmt: skip
    rng.shuffle(pairs)
    items: list[dict] = []
    used: set[tuple[str, str]] = set()
    for i, (x, y) in enumerate(pairs):
        if len(items) >= args.n:
            break
        key = tuple(sorted((x["question"], y["question"])))
        if key in used:
            continue
        used.add(key)
        if rng.random() < 0.5:
            x, y = y, x
        past, aux = VERBS[x["verb"]]
        earlier = x if x["year"] < y["year"] else y
        hops = [{"question": h["question"], "answers": [h["answer"]]} for h in (x, y)]
        common = {"gold_doc": x["doc"], "gold_docs": [x["doc"], y["doc"]], "group": key[0], "hops": hops}
        if len(items) % 2 == 0:
            question = (
                f"Who is older, {x['entity']} or {y['entity']}?" if x["verb"] == "born"
                else f"Which {'was ' + past if aux == 'was' else past} first, {x['entity']} or {y['entity']}?"
            )  # fmt: skip
            items.append({"id": f"mh{i}", "question": question, "answers": [earlier["entity"]], **common})
        else:
            before = len(items) % 4 == 1
            verb = x["verb"] if aux == "was" else x["verb"]
            question = (
                f"{aux.capitalize()} {x['entity']} {verb} {'before' if before else 'after'} {y['entity']}?"
            )
            truth = (x["year"] < y["year"]) == before
            items.append(
                {"id": f"mh{i}", "question": question, "answers": ["yes" if truth else "no"], **common}
            )
    out = args.out
    (out / "docs").mkdir(parents=True, exist_ok=True)
    articles = {d.rsplit("/", 1)[0] for it in items for d in it["gold_docs"]}
    for doc, text in docs.items():
        if doc.rsplit("/", 1)[0] in articles:
            path = out / "docs" / doc
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
    with (out / "questions.jsonl").open("w") as fh:
        for it in items:
            fh.write(json.dumps(it) + "\n")
    singles = out.with_name(out.name + "-hops")
    if singles.exists():
        shutil.rmtree(singles)
    shutil.copytree(out / "docs", singles / "docs")
    hops = {h["question"]: (h, d) for it in items for h, d in zip(it["hops"], it["gold_docs"], strict=True)}
    with (singles / "questions.jsonl").open("w") as fh:
        for i, (h, doc) in enumerate(hops.values()):
            fh.write(json.dumps({"id": f"hop{i}", **h, "gold_doc": doc}) + "\n")
    kinds = sum(1 for it in items if it["answers"][0] in ("yes", "no"))
    print(json.dumps({"questions": len(items), "yes_no": kinds, "comparisons": len(items) - kinds,
                      "documents": sum(1 for d in docs if d.rsplit('/', 1)[0] in articles),
                      "date_questions_found": len(found), "pairs": len(pairs)}))  # fmt: skip


if __name__ == "__main__":
    main()
