"""A learned pick for the rewriter that reads the first hits: fine-tune the model's query likelihood.

bench/prf_headroom.py found that a rewrite built from the hit under which the bundled base model
finds the question most likely (zero-shot query likelihood) adds about 3 points of hit@5, and that a
perfect pick would add 4-10. This trains that pick: a LoRA on the bundled base (the shared trainer,
``openbook.assistant.finetune.train``) that learns to write a library's questions from the document
that answers them, on the *training* articles of a QA set (split as `eval qa` splits them), so that
the right hit is the one under which a held-out question scores highest.

    .venv/bin/python bench/picker.py data DATASET OUT [--n 640] [--val 48] [--seed 0]
    .venv/bin/python -m openbook.assistant.finetune.train OUT RUN --max-steps 80 --batch 8 ...

``data`` writes OUT/{train,val}.jsonl (the shared trainer's Example rows: the picker's messages and
the question as target; validation articles never in training). ``Picker`` scores a question under
a passage with that adapter (or the base, ``run=None``) in PyTorch: the mean log-probability of the
question's tokens after the chat prompt, every passage of one question in one batch.
Never SQuAD v1.1 dev.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.finetune.examples import Example

PASSAGE_WORDS = 160
SYSTEM = "You write the question that a reader asks about a passage."


def messages(passage: str) -> list[dict[str, str]]:
    head = " ".join(passage.split()[:PASSAGE_WORDS])
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Passage: {head}\n\nWrite one question this passage answers."},
    ]


def build(dataset: Path, out: Path, n: int, val: int, seed: int) -> dict[str, Any]:
    ds = load(dataset)
    if "squaddev" in ds.name.lower():
        raise SystemExit("never train on SQuAD v1.1 dev: it stays unseen")
    qids = ev.question_ids(ds, "train")
    groups = sorted({ds.groups.get(q, q) for q in qids})
    rng = random.Random(seed)
    rng.shuffle(groups)
    val_groups: set[str] = set()
    for g in groups:  # whole articles into validation until it holds ``val`` questions
        if sum(ds.groups.get(q, q) in val_groups for q in qids) >= val:
            break
        val_groups.add(g)
    rows: dict[str, list[Example]] = {"train": [], "val": []}
    for q in qids:
        doc = max(ds.qrels[q], key=lambda d: ds.qrels[q][d])
        group = ds.groups.get(q, q)
        ex = Example(
            messages=messages(ds.docs[doc][1]), target=ds.queries[q].strip(), id=f"{ds.name}/{q}",
            group=group, format="picker", oracle=True, answerable=True,
        )  # fmt: skip
        rows["val" if group in val_groups else "train"].append(ex)
    rng.shuffle(rows["train"])
    rows["train"] = rows["train"][:n]
    out.mkdir(parents=True, exist_ok=True)
    for name, exs in rows.items():
        (out / f"{name}.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in exs))
    summary = {"dataset": ds.name, "train": len(rows["train"]), "val": len(rows["val"]), "seed": seed}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


class Picker:
    """Mean log-probability of a question after each passage's picker prompt, in PyTorch."""

    def __init__(self, run: Path | None, threads: int = 2) -> None:
        import torch
        from peft import set_peft_model_state_dict

        from openbook.assistant.finetune.train import TrainConfig, load_base, with_lora
        from openbook.assistant.models.llamacpp_backend import bundled_gguf

        torch.set_num_threads(threads)
        self.torch = torch
        model, self.tok = load_base(bundled_gguf(), "cpu")  # type: ignore[arg-type]
        if run is not None:
            trained = json.loads((run / "train.json").read_text())["config"]
            cfg = TrainConfig(**{k: v for k, v in trained.items() if k in TrainConfig.__dataclass_fields__})
            cfg.targets, cfg.grad_checkpointing = tuple(cfg.targets), False
            model = with_lora(model, cfg)
            set_peft_model_state_dict(model, torch.load(run / "adapter.pt", map_location="cpu"))
        self.model = model.eval()

    def scores(self, passages: list[str], question: str) -> list[float]:
        torch, tok = self.torch, self.tok
        target = tok(question.strip(), add_special_tokens=False)["input_ids"]
        rows = []
        for p in passages:
            prompt = tok.apply_chat_template(messages(p), add_generation_prompt=True, tokenize=False)
            rows.append(tok(prompt, add_special_tokens=False)["input_ids"] + target)
        width = max(len(r) for r in rows)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        out = []
        with torch.no_grad():
            logits = self.model(input_ids=ids, attention_mask=mask).logits
            for i, r in enumerate(rows):
                start = len(r) - len(target)
                logp = torch.log_softmax(logits[i, start - 1 : len(r) - 1].float(), dim=-1)
                out.append(float(logp[torch.arange(len(target)), torch.tensor(target)].mean()))
        return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data", help="training rows from a QA set's training articles")
    d.add_argument("dataset", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--n", type=int, default=640)
    d.add_argument("--val", type=int, default=48)
    d.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print(json.dumps(build(a.dataset, a.out, a.n, a.val, a.seed), indent=2))


if __name__ == "__main__":
    main()
