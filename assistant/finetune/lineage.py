"""Lineage of a fine-tuned model: where it came from, written beside its GGUF as JSON.

``<model>.json`` holds the base (name and sha256), the training data (sha256 of the JSONL and its
statistics), the training configuration and figures, the hardware and time, the exported files'
sha256 — and, once ``eval qa`` has run, its figures (``add_eval``). ``openbook models`` reads it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from ..models.cards import card_path, read

__all__ = ["add_eval", "card_path", "read", "sha256_of", "summary_line", "with_eval", "write"]


def sha256_of(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def write(
    model: Path, base: Path, run_dir: Path, data_dir: Path | None, export: dict[str, Any]
) -> dict[str, Any]:
    trained = json.loads((run_dir / "train.json").read_text())
    data_dir = data_dir or (Path(trained["data_dir"]) if trained.get("data_dir") else None)
    data: dict[str, Any] | None = None
    if data_dir is not None and (data_dir / "train.jsonl").exists():
        files = [
            data_dir / "train.jsonl",
            *([data_dir / "val.jsonl"] if (data_dir / "val.jsonl").exists() else []),
        ]
        stats = data_dir / "data.json"
        data = {
            "sha256": sha256_of(*files),
            "stats": json.loads(stats.read_text()) if stats.exists() else None,
        }
    m = export.get("merged")
    merged = {Path(m["path"]).name: m["sha256"]} if m else {}
    keep = (
        "examples",
        "val_examples",
        "steps",
        "seconds_per_step",
        "examples_per_second",
        "wall_seconds",
        "train_loss_first10",
        "train_loss_last10",
        "val_loss_before",
        "val_loss_after",
        "device",
        "threads",
    )
    card = {
        "name": model.stem,
        "kind": "lora",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "base": {"file": base.name, "sha256": sha256_of(base)},
        "data": data,
        "config": trained["config"],
        "training": {k: trained.get(k) for k in keep},
        "hardware": trained.get("hardware"),
        "forgetting": trained.get("forgetting"),
        "heldout_answers": trained.get("heldout_answers"),
        "files": {model.name: export.get("sha256"), **merged},
        "probe_agreement": (export.get("probe") or {}).get("agreement"),
        "eval": {},
    }  # fmt: skip
    card_path(model).write_text(json.dumps(card, indent=2))
    return card


def add_eval(model: Path, dataset: str, summary: dict[str, Any]) -> None:
    """Record ``eval qa`` figures (F1, EM, declines per configuration) on the card."""
    card = read(model)
    if card is None:
        raise FileNotFoundError(f"no lineage card beside {model}")
    card_path(model).write_text(json.dumps(with_eval(card, dataset, summary), indent=2))


def with_eval(card: dict[str, Any], dataset: str, summary: dict[str, Any]) -> dict[str, Any]:
    """``card`` with ``eval qa``'s figures of ``dataset`` recorded (in place, and returned)."""
    card.setdefault("eval", {})[dataset] = {
        name: {
            k: c.get(k)
            for k in (
                "f1",
                "f1_ci95",
                "em",
                "decline_answerable",
                "decline_unanswerable",
                "questions",
                "unanswerable",
            )
        }
        for name, c in summary["configs"].items()
    }
    return card


def summary_line(card: dict[str, Any]) -> str:
    cfg, tr = card.get("config") or {}, card.get("training") or {}
    data = card.get("data") or {}
    bits = [
        f"LoRA r{cfg.get('rank')} on {card['base']['file']}",
        f"data {data['sha256'][:12]}" if data.get("sha256") else "data unknown",
        f"{tr.get('examples')} examples, {tr.get('steps')} steps",
    ]
    raw = tr.get("val_ndcg10")
    ndcg = raw if isinstance(raw, dict) else {}
    served = ndcg.get("exported") or {}
    if served.get("int8") is not None and ndcg.get("fused") is not None:  # a reranker's card
        bits.append(f"held-out nDCG@10 {ndcg['fused']:.3f} fused → {served['int8']:.3f} reranked")
    for ds, configs in (card.get("eval") or {}).items():
        best = {k: v["f1"] for k, v in configs.items() if k.startswith("ft") and v.get("f1") is not None}
        if best:
            bits.append(f"{ds}: " + ", ".join(f"{k} F1 {100 * v:.1f}" for k, v in sorted(best.items())))
    return "; ".join(bits)
