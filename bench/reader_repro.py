"""The reader recipe re-run (bench/reader_seeds_gpu.sh): is the shipped reader reproducible, and
how much do its figures move with the seed?

    python bench/reader_repro.py                  # the table, from bench/figures/reader/repro/
    python bench/reader_repro.py unpack DIR RUN…  # fp16 adapters from the GPU run -> build/v2/run-RUN

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

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "bench" / "figures" / "reader" / "repro"
CARD = ROOT / "assistant" / "models" / "reader" / "openbook-reader.json"


def unpack(src: Path, runs: list[str]) -> None:
    import torch

    for run in runs:
        out = ROOT / "build" / "v2" / f"run-{run}"
        out.mkdir(parents=True, exist_ok=True)
        (out / "train.json").write_text((src / f"{run}.train.json").read_text())
        sd = torch.load(src / f"{run}.adapter.pt", map_location="cpu")
        torch.save({k: t.float() for k, t in sd.items()}, out / "adapter.pt")
        print(f"{run}: {len(sd)} tensors -> {out}")


def row(name: str, training: dict, heldout: dict, hw: str) -> str:
    return (
        f"| {name} | {hw} | {training['val_loss_after']:.4f} | {100 * heldout['f1']:.1f} | "
        f"{100 * heldout['declines_answerable']:.0f}% | {100 * heldout['declines_unanswerable']:.0f}% |"
    )


def table() -> None:
    card = json.loads(CARD.read_text())
    shipped = card["training"]
    print("| run | hardware | val loss | held-out F1 | declines (answerable) | declines (unanswerable) |")
    print("|---|---|---|---|---|---|")
    gpu = card["hardware"]["gpu"]
    print(row("shipped reader (answer data, seed 0)", shipped, card["heldout_answers"], gpu))
    f1s: dict[str, list[float]] = {}
    for path in sorted(FIGURES.glob("*.train.json")):
        r = json.loads(path.read_text())
        name = path.name.removesuffix(".train.json")
        print(row(f"rerun {name}", r, r["heldout_answers"], r["hardware"].get("gpu") or r["device"]))
        f1s.setdefault(name.split("-")[0], []).append(100 * r["heldout_answers"]["f1"])
    print()
    for data, values in f1s.items():
        if len(values) > 1:
            print(
                f"{data} data, {len(values)} seeds: held-out F1 mean {statistics.mean(values):.1f}, "
                f"sd {statistics.stdev(values):.1f}, range {min(values):.1f}-{max(values):.1f}"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["unpack"]:
        unpack(Path(sys.argv[2]), sys.argv[3:])
    else:
        table()
