"""How often the distilled note keeps the gold answer, for variants of the extractive selection,
on the passages an earlier `openbook eval qa` run (config ft-agent, distill on) gave the distill
step: read back from that run's traces, so no model runs. Counts only answerable questions whose
passages hold a gold answer; "words" is the note's mean length.

    .venv/bin/python bench/note_recall.py RUN_DIR DATASET.json [--json out.json]

RUN_DIR is an `eval qa --out` folder (answers.jsonl with trace ids); DATASET the SQuAD-format
file it asked. The traces live in the eval's own schema of the default database.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eval_traces import records_with_spans

from openbook.agents.distiller import DistillInput, extract
from openbook.agents.kit.evidence import Passage
from openbook.assistant.embeddings import Embedder, SentenceTransformerEmbedder
from openbook.assistant.evaluation.qa_data import QADataset, load_qa
from openbook.assistant.evaluation.qa_metrics import has_answer

VARIANTS: dict[str, dict[str, Any]] = {
    "embedding, 2 per passage (before)": dict(lexical_weight=0.0, per_passage=2, follow=False),
    "blend 0.3, 2 per passage": dict(lexical_weight=0.3, per_passage=2, follow=False),
    "blend 0.3, 3 per passage": dict(lexical_weight=0.3, per_passage=3, follow=False),
    "blend 0.3, 3 per passage, pronoun follows (today)": dict(lexical_weight=0.3, per_passage=3),
    "embedding, 8 facts, 2 per passage": dict(lexical_weight=0.0, per_passage=2, follow=False, max_facts=8),
}


def distill_inputs(run: Path, ds: QADataset, embedder: Embedder) -> list[dict[str, Any]]:
    out = []
    for r, spans in records_with_spans(run, ds, embedder):
        distill = [s for s in spans if s["name"] == "distill" and s["input"]]
        if distill:
            out.append({**r, "passages": distill[-1]["input"]["passages"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = load_qa(args.dataset)
    gold = {i.id: i.answers for i in ds.items}
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    rows = [r for r in distill_inputs(args.run, ds, embedder) if r["answerable"]]
    usable = [r for r in rows if has_answer(" ".join(p["text"] for p in r["passages"]), gold[r["id"]])]
    result: dict[str, Any] = {"run": str(args.run), "answerable": len(rows)}
    result["answer_in_passages"] = len(usable)
    for name, kw in VARIANTS.items():
        kept = words = 0
        for r in usable:
            inp = DistillInput(question=r["question"], passages=[Passage(**p) for p in r["passages"]])
            facts = [f.fact for f in extract(embedder.embed_batch, inp, **kw).facts]
            kept += has_answer(" ".join(facts), gold[r["id"]])
            words += sum(len(f.split()) for f in facts)
        result[name] = {"answer_kept": kept, "words": round(words / max(len(usable), 1))}
        print(f"{name:52s} answer kept {kept}/{len(usable)}  words {result[name]['words']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
