# ruff: noqa: E501  (Markdown table rows)
"""The shipped reader's model card: its lineage card (written by `openbook finetune export`)
plus the `openbook eval qa` figures, rendered as assistant/models/reader/README.md.

    .venv/bin/python bench/reader_card.py [bench/figures/qa] [--check]

``--check`` writes nothing and fails when the committed card or README is not what the figures
give (run the script to bring them up to date).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tables import header, pct, row

from openbook.assistant.finetune import lineage
from openbook.assistant.models.resolve import reader_adapter

CONFIGS = ("base", "oracle", "rag", "agent", "ft", "ft-oracle", "ft-rag", "ft-agent")
DECLINES = ("rag", "agent", "ft", "ft-rag", "ft-agent")


def main() -> None:
    check = "--check" in sys.argv[1:]
    given = [a for a in sys.argv[1:] if a != "--check"]
    figures = Path(given[0] if given else "bench/figures/qa")
    model = reader_adapter()
    card = lineage.read(model)
    assert card is not None, f"no lineage card beside {model}"
    stored = json.dumps(card, indent=2)
    for path in sorted(figures.glob("*.summary.json")):
        lineage.with_eval(card, path.name.removesuffix(".summary.json"), json.loads(path.read_text()))
    cfg, tr, data = card["config"], card["training"], card["data"] or {}
    stats = data.get("stats") or {}
    hw = card.get("hardware") or {}
    lines = [
        "# openbook-reader — model card",
        "",
        "A LoRA adapter for SmolLM2-135M-Instruct (the bundled Q4_1 GGUF), trained RAFT-style to answer",
        "from numbered passages with a short cited answer, and to decline when the passages do not hold",
        "the answer. Served on the *same* Q4_1 base it was trained on (dequantised for training), by the",
        "in-process runtime or by Ollama (`openbook models install`). Recipe: `make reader`.",
        "",
        "| | |",
        "|---|---|",
        f"| base | `{card['base']['file']}` sha256 `{card['base']['sha256'][:16]}…` |",
        f"| adapter | `{model.name}` sha256 `{card['files'][model.name]}` |",
        f"| LoRA | rank {cfg['rank']}, alpha {cfg['alpha']}, dropout {cfg['dropout']}, "
        f"targets {', '.join(cfg['targets'])} |",
        f"| optimiser | AdamW lr {cfg['lr']}, warm-up {cfg['warmup']} steps then linear decay, batch {cfg['batch']}, "
        f"{cfg['epochs']} epoch(s), seed {cfg['seed']}, max length {cfg['max_len']} |",
        f"| data | {', '.join(stats.get('datasets') or [])} — training articles only (never SQuAD v1.1 dev); "
        f"sha256 `{(data.get('sha256') or '')[:16]}…` |",
        f"| examples | {tr['examples']} train / {tr['val_examples']} validation (split by article); "
        f"oracle kept {pct(stats.get('oracle_kept'))}%, answerable targets {pct(stats.get('answerable_targets'))}%; "
        f"formats {stats.get('formats')}; RAFT config {stats.get('config')} |",
        f"| steps | {tr['steps']} ({tr['seconds_per_step']} s/step, {tr['examples_per_second']} examples/s) |",
        (
            f"| hardware | {hw.get('device')} {hw.get('gpu') or ''} {hw.get('cpu') or ''}, "
            f"{hw.get('physical_cores')} cores, torch {hw.get('torch')}, float32 matmul precision "
            f"{hw.get('matmul_precision', 'highest')}; wall {tr['wall_seconds']} s |"
            if hw
            else f"| hardware | {tr.get('device')}, {tr.get('threads')} threads (this run predates the hardware "
            f"record; see the card's notes); wall {tr['wall_seconds']} s |"
        ),
        f"| loss | train {tr['train_loss_first10']} → {tr['train_loss_last10']} (first/last 10 steps); "
        f"validation {tr['val_loss_before']} → {tr['val_loss_after']} |",
        f"| probe | PyTorch vs llama.cpp greedy answers agree on {pct(card.get('probe_agreement'))}% |",
    ]
    held = card.get("heldout_answers")
    if held:
        lines.append(
            f"| held-out answers | PyTorch, greedy, {held['examples']} validation examples (articles never "
            f"trained on): F1 {pct(held['f1'])} on the {held['answerable']} answerable, declines "
            f"{pct(held['declines_answerable'])}% of those and {pct(held['declines_unanswerable'])}% of the rest |"
        )
    lines.append("")
    forgot = card.get("forgetting")
    if forgot:
        g, c = forgot["general_text"], forgot["chat"]
        lines += [
            "## Forgetting check",
            "",
            f"Perplexity on text it never trained on, adapter off → on: general prose (the sample library, "
            f"{g['tokens']} tokens) {g['ppl_before']} → {g['ppl_after']}; the base model's own replies to "
            f"{c['prompts']} chat prompts {c['ppl_of_base_replies_before']} → {c['ppl_of_base_replies_after']}.",
            "",
            "| prompt | base | reader |",
            "|---|---|---|",
            *[
                f"| {r['prompt']} | {r['base'][:90].replace('|', '/').replace(chr(10), ' ')} "
                f"| {r['tuned'][:90].replace('|', '/').replace(chr(10), ' ')} |"
                for r in forgot["replies"]
            ],
            "",
        ]
    lines += [
        "## `openbook eval qa` (held-out articles, 100 answerable questions per set)",
        "",
        "F1 (95% CI); declines below.",
        "",
        *header(["set", *CONFIGS]),
    ]
    for ds, configs in sorted(card["eval"].items()):
        cells = []
        for name in CONFIGS:
            c = configs.get(name)
            if c is None:
                cells.append("—")
                continue
            lo, hi = c["f1_ci95"]
            cells.append(f"{pct(c['f1'])} ({pct(lo)}–{pct(hi)})")
        lines.append(row([ds, *cells]))
    lines += [
        "",
        "Declines, % of answerable / unanswerable questions (unanswerable: questions of another set).",
        "",
        *header(["set", *DECLINES]),
    ]
    for ds, configs in sorted(card["eval"].items()):
        cells = [
            "—" if (c := configs.get(name)) is None
            else f"{pct(c['decline_answerable'])} / {pct(c['decline_unanswerable'])}"
            for name in DECLINES
        ]  # fmt: skip
        lines.append(row([ds, *cells]))
    notes = model.parent / "NOTES.md"  # hand-written observations about this run, if any
    if notes.exists():
        lines += ["", notes.read_text().strip(), ""]
    out, text = model.parent / "README.md", "\n".join(lines) + "\n"
    if check:
        stale = [p.name for p, ok in ((lineage.card_path(model), json.dumps(card, indent=2) == stored),
                                      (out, out.read_text() == text)) if not ok]  # fmt: skip
        if stale:
            raise SystemExit(f"out of date: {', '.join(stale)} (run bench/reader_card.py)")
        print(f"{out} and its card are up to date")
        return
    lineage.card_path(model).write_text(json.dumps(card, indent=2))
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
