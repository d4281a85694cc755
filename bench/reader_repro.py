"""The reader recipe re-run (bench/reader_seeds_gpu.sh): is the shipped reader reproducible, and
how much do its figures move with the seed?

    python bench/reader_repro.py                  # the table, from bench/figures/reader/repro/
    python bench/reader_repro.py unpack DIR RUN…  # fp16 adapters from the GPU run -> build/v2/run-RUN
    python bench/reader_repro.py qa SHIPPED RERUN  # `eval qa` of two agent_ablation.sh folders, paired

The table sets each rerun's train report beside the shipped reader's card
(assistant/models/reader/openbook-reader.json): validation loss, and the held-out answers (200
validation examples of articles never trained on, greedy, PyTorch) — F1 on the answerable ones,
declines of answerable and unanswerable. `answer:*` runs train on the shipped data; `repro:*` on
data the recipe's `openbook finetune data` line rebuilt today (a different validation set where
its evidence format changed, so its held-out figures are not paired with the others').
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from tables import header, pct, row

from openbook.assistant.evaluation.qa_eval import Record, load_done
from openbook.assistant.evaluation.qa_metrics import bootstrap_ci

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "bench" / "figures" / "reader" / "repro"
SETS = ("new_wiki", "nyt", "reddit", "amazon_reviews")
CARD = ROOT / "assistant" / "models" / "reader" / "openbook-reader.json"
RUN_COLUMNS = (
    "run",
    "hardware",
    "val loss",
    "held-out F1",
    "declines (answerable)",
    "declines (unanswerable)",
)


def unpack(src: Path, runs: list[str]) -> None:
    import torch

    for run in runs:
        out = ROOT / "build" / "v2" / f"run-{run}"
        out.mkdir(parents=True, exist_ok=True)
        (out / "train.json").write_text((src / f"{run}.train.json").read_text())
        sd = torch.load(src / f"{run}.adapter.pt", map_location="cpu")
        torch.save({k: t.float() for k, t in sd.items()}, out / "adapter.pt")
        print(f"{run}: {len(sd)} tensors -> {out}")


def run_row(name: str, training: dict, heldout: dict, hw: str) -> str:
    return row(
        [
            name, hw, f"{training['val_loss_after']:.4f}", pct(heldout["f1"]),
            f"{pct(heldout['declines_answerable'], 0)}%", f"{pct(heldout['declines_unanswerable'], 0)}%",
        ]
    )  # fmt: skip


def table() -> None:
    card = json.loads(CARD.read_text())
    shipped = card["training"]
    print("\n".join(header(RUN_COLUMNS)))
    gpu = card["hardware"]["gpu"]
    print(run_row("shipped reader (answer data, seed 0)", shipped, card["heldout_answers"], gpu))
    f1s: dict[str, list[float]] = {}
    for path in sorted(FIGURES.glob("*.train.json")):
        r = json.loads(path.read_text())
        name = path.name.removesuffix(".train.json")
        print(run_row(f"rerun {name}", r, r["heldout_answers"], r["hardware"].get("gpu") or r["device"]))
        f1s.setdefault(name.split("-")[0], []).append(100 * r["heldout_answers"]["f1"])
    print()
    for data, values in f1s.items():
        if len(values) > 1:
            print(
                f"{data} data, {len(values)} seeds: held-out F1 mean {statistics.mean(values):.1f}, "
                f"sd {statistics.stdev(values):.1f}, range {min(values):.1f}-{max(values):.1f}"
            )


def answers(folder: Path) -> dict[str, Record]:
    """An agent_ablation.sh folder's answers (one configuration each), by question id."""
    return {qid: r for (qid, _config), r in load_done(folder / "answers.jsonl").items()}


def qa(shipped: Path, rerun: Path) -> None:
    """Per set and variant present in both: F1 on the answerable questions, the paired difference
    with its 95% bootstrap interval, and declines of the unanswerable ones."""
    print(
        "| set | variant | shipped F1 | rerun F1 | rerun − shipped (95% CI) "
        "| unans. declined (shipped / rerun) |"
    )
    print("|---|---|---|---|---|---|")
    for folder in sorted(p for p in rerun.iterdir() if (p / "answers.jsonl").exists()):
        base = shipped / folder.name
        if not (base / "answers.jsonl").exists():
            continue
        a, b = answers(base), answers(folder)
        ids = [i for i in a if i in b and a[i].answerable]
        fa, fb = [a[i].f1 or 0.0 for i in ids], [b[i].f1 or 0.0 for i in ids]
        lo, hi = bootstrap_ci([y - x for x, y in zip(fa, fb, strict=True)], n=2000)  # paired
        unans = [i for i in a if i in b and not a[i].answerable]
        da = sum(bool(a[i].declined) for i in unans)
        db = sum(bool(b[i].declined) for i in unans)
        set_name = next((n for n in SETS if folder.name.startswith(n + "-")), folder.name.split("-")[0])
        variant = folder.name.removeprefix(set_name + "-")
        mean_a, mean_b = 100 * statistics.mean(fa), 100 * statistics.mean(fb)
        print(
            f"| {set_name} | {variant} | {mean_a:.1f} | {mean_b:.1f} | {mean_b - mean_a:+.1f} "
            f"({100 * lo:+.1f} to {100 * hi:+.1f}) | {da}/{len(unans)} / {db}/{len(unans)} |"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["unpack"]:
        unpack(Path(sys.argv[2]), sys.argv[3:])
    elif sys.argv[1:2] == ["qa"]:
        qa(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        table()
