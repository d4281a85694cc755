"""A learned pick for the rewriter that reads the first hits: fine-tune the model's query likelihood.

bench/prf_headroom.py found that a rewrite built from the hit under which the bundled base model
finds the question most likely (zero-shot query likelihood) adds about 3 points of hit@5, and that a
perfect pick would add 4-10. This trains that pick: a LoRA on the bundled base (the shared trainer,
``openbook.assistant.finetune.train``) that learns to write a library's questions from the document
that answers them, on the *training* articles of a QA set (split as `eval qa` splits them), so that
the right hit is the one under which a held-out question scores highest.

    .venv/bin/python bench/picker.py data DATASET OUT [--n 640] [--val 48] [--seed 0]
    .venv/bin/python -m openbook.assistant.finetune.train --data OUT --out RUN --base BASE.gguf \
        --max-steps 80 --batch 8 --no-forgetting-check
    .venv/bin/python bench/picker.py export FOLDER

``data`` writes OUT/{train,val}.jsonl (the shared trainer's Example rows: the picker's messages
and the question as target; validation articles never in training), with the prompt and rows of
``openbook.assistant.finetune.picker``, whose ``TorchLikelihood`` scores the trained pick in
bench/prf_headroom.py. ``export`` writes FOLDER/run as the GGUF adapter a turn loads
(FOLDER/openbook-picker.gguf: measure it with ``openbook eval retrieval --rewrites --rewriter``).
``openbook finetune rewriter --method pick`` does all of this in one command. Never SQuAD v1.1 dev.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.finetune import picker as pk
from openbook.assistant.models.resolve import PICKER_NAME


def build(dataset: Path, out: Path, n: int, val: int, seed: int) -> dict[str, Any]:
    ds = load(dataset)
    if "squaddev" in ds.name.lower():
        raise SystemExit("never train on SQuAD v1.1 dev: it stays unseen")
    pairs = []
    for q in ev.question_ids(ds, "train"):
        doc = max(ds.qrels[q], key=lambda d: ds.qrels[q][d])
        pairs.append(pk.Pair(f"{ds.name}/{q}", ds.queries[q], ds.docs[doc][1], ds.groups.get(q, q)))
    rows = pk.examples(pairs, n, val, seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, exs in rows.items():
        (out / f"{name}.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in exs))
    summary = {"dataset": ds.name, "train": len(rows["train"]), "val": len(rows["val"]), "seed": seed}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data", help="training rows from a QA set's training articles")
    d.add_argument("dataset", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--n", type=int, default=640)
    d.add_argument("--val", type=int, default=48)
    d.add_argument("--seed", type=int, default=0)
    x = sub.add_parser("export", help="FOLDER/run -> FOLDER/openbook-picker.gguf (with its lineage card)")
    x.add_argument("folder", type=Path, help="holds data/ and run/ (the trainer's --out)")
    a = p.parse_args(argv)
    if a.cmd == "export":
        from openbook.assistant.finetune.pipeline import export_adapter

        out = a.folder / f"{PICKER_NAME}.gguf"
        report = export_adapter(a.folder / "run", out, None, 0, data_dir=a.folder / "data")
        print(json.dumps({k: report[k] for k in ("adapter", "sha256", "bytes")}, indent=2))
        return
    print(json.dumps(build(a.dataset, a.out, a.n, a.val, a.seed), indent=2))


if __name__ == "__main__":
    main()
