"""The quote-then-answer variant of a RAFT data folder, for the comparison the reader's issue
asks for: the same examples (same questions, passages, formats, declines), with each answer
target ``SPAN [n]`` rewritten as ``finetune data --target quote`` writes it — the sentence of
passage n that holds the answer, quoted, then the answer. Declines stay as they are.

    python bench/quote_variant.py build/v2/answer build/v2/quote
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from openbook.assistant.evaluation.qa_metrics import has_answer
from openbook.assistant.finetune.data import quoted
from openbook.assistant.finetune.examples import Example, load_examples

PASSAGE = re.compile(r'<passage n="(\d+)">(.*?)</passage>', re.S)
ANSWER = re.compile(r"^(?P<span>.+?) \[(?P<n>\d+)\]$", re.S)


def requote(ex: Example) -> Example:
    m = ANSWER.match(ex.target)
    if not ex.answerable or not m:
        return ex
    span, n = m.group("span"), m.group("n")
    texts = [t for k, t in PASSAGE.findall(ex.messages[-1]["content"]) if k == n]
    holding = next((t for t in texts if has_answer(t, [span])), None)
    if holding is None:
        raise ValueError(f"{ex.id}: passage [{n}] does not hold {span!r}")
    return ex.model_copy(update={"target": f'Quote [{n}]: "{quoted(holding, span)}"\nAnswer: {span} [{n}]'})


def main(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("train.jsonl", "val.jsonl"):
        rows = [requote(e) for e in load_examples(src / name)]
        (dst / name).write_text("".join(json.dumps(e.model_dump()) + "\n" for e in rows), encoding="utf-8")
    stats = json.loads((src / "data.json").read_text())
    stats["config"]["target"] = "quote"
    stats["derived_from"] = str(src)
    (dst / "data.json").write_text(json.dumps(stats, indent=2))
    shutil.copy(src / "data.json", dst / "data.answer.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
