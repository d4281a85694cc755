"""``openbook finetune reranker``: train the cross-encoder that reranks hybrid hits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click

from .common import AppContext, emit_json, err, json_option, pass_app, qa_sets_option


@click.command("reranker")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for what it makes (data/, run/, openbook-reranker.safetensors and its card).",
)
@qa_sets_option("searched in the set itself. Repeatable.")
@click.option("--library", is_flag=True, help="Also a teacher's questions about this library's chunks.")
@click.option("--teacher", help="With --library: the model that writes questions (default: models.teacher).")
@click.option("--per-set", type=int, default=1500, show_default=True, help="Questions per set (or chunks).")
@click.option(
    "--held-out", type=int, default=300, show_default=True, help="Questions kept out (whole articles)."
)
@click.option(
    "--layers", type=click.IntRange(1, 6), default=6, show_default=True, help="Layers of the base used."
)
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--max-steps", type=int, help="Stop after this many steps.")
@click.option("--lr", type=float, default=3e-4, show_default=True)
@click.option("--rank", type=int, default=16, show_default=True, help="LoRA rank.")
@click.option(
    "--group",
    type=click.IntRange(2, 30),
    default=4,
    show_default=True,
    help="Passages a question is trained on: its right one and GROUP - 1 wrong ones.",
)
@click.option(
    "--hard",
    type=click.IntRange(0, 29),
    default=2,
    show_default=True,
    help="Of the wrong ones, this many are the highest ranked (the rest drawn from the top 30).",
)
@click.option(
    "--max-length",
    type=click.IntRange(32, 512),
    default=128,
    show_default=True,
    help="Word pieces of question and passage read together (the cost of a search's reranking "
    "grows with it); kept in the card, so the run time reads as much as training did.",
)
@click.option("--threads", type=int, help="Torch threads (default: all cores).")
@click.option(
    "--resume", is_flag=True, help="Reuse the data in --out and continue from its last checkpoint (if any)."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--install", is_flag=True, help="Use it for this user's searches (copied to the data folder) if it "
    "orders the held-out questions no worse than the reranker it replaces (yours, else the "
    "shipped one) and the fused order.",
)  # fmt: skip
@json_option
@pass_app
def finetune_reranker(
    app: AppContext,
    out: Path,
    datasets: tuple[Path, ...],
    library: bool,
    teacher: str | None,
    per_set: int,
    held_out: int,
    seed: int,
    resume: bool,
    install: bool,
    as_json: bool,
    **opts: Any,
) -> None:
    """Train a cross-encoder reranker: the bundled embedding model's first --layers layers, a
    LoRA adapter and a scoring head, on each question's hybrid top 30 (its right passage against
    the hardest others). Writes <out>/openbook-reranker.safetensors with its card, and the
    held-out nDCG@10 before and after."""
    from contextlib import ExitStack

    from ..embeddings import make_embedder
    from ..errors import OpenbookError
    from ..finetune import reranker as rr
    from ..models.cross_encoder import RERANKER_NAME, installed_reranker, resolve_reranker
    from .rewriter_cmd import _library_source, _qa_sources

    data_dir, run_dir = out / "data", out / "run"
    reuse = resume and (data_dir / "train.jsonl").exists()
    if not datasets and not library and not reuse:
        raise click.UsageError("Give --qa SET (repeatable), --library, or both.")
    settings = app.settings()
    cfg = rr.RerankConfig(
        layers=opts["layers"], rank=opts["rank"], alpha=2 * opts["rank"], lr=opts["lr"],
        epochs=opts["epochs"], max_steps=opts["max_steps"], seed=seed, threads=opts["threads"],
        group=opts["group"], hard=min(opts["hard"], opts["group"] - 1), max_length=opts["max_length"],
    )  # fmt: skip
    if reuse:
        err(f"Reusing the data in {data_dir}")
    else:
        embedder = make_embedder(settings.embedding, settings.ollama)
        with ExitStack() as stack:
            sources = _qa_sources(stack, settings, embedder, datasets, per_set, seed) if datasets else []
            if library:
                sources += _library_source(stack, settings, embedder, teacher, per_set, seed)
            err(f"Searching {sum(len(s[0]) for s in sources)} questions for their candidates…")
            rows = rr.candidate_rows(sources, say=err)
        split = rr.split_rows(rows, held_out, seed)
        if len(split["train"]) < 2 or not split["val"]:
            raise OpenbookError(
                f"{len(split['train'])} training and {len(split['val'])} held-out questions: too few",
                hint="more questions (--per-set), or a larger library",
            )
        stats = rr.write_data(split, data_dir)
        err(f"Data: {json.dumps(stats)}")
    rr.train(data_dir, run_dir, cfg, resume=resume, say=err)
    adapter = out / f"{RERANKER_NAME}.safetensors"
    card = rr.export(run_dir, adapter, data_dir, say=err)
    report: dict[str, Any] = {"adapter": str(adapter), "training": card["training"]}
    if install:
        figures = card["training"]["val_ndcg10"]
        mine, bar, against = figures["exported"]["int8"], figures["fused"], "the fused order"
        current, label = resolve_reranker(True, None)  # what it would replace: yours, else the shipped
        if current is not None:
            err(f"Held-out nDCG@10 with the reranker it would replace, {label}…")
            theirs = rr.served_ndcg(current.adapter, data_dir, cfg.threads)
            report["replaces"] = {"reranker": str(current.adapter), "val_ndcg10": theirs}
            if theirs > bar:
                bar, against = theirs, label
        if mine < bar:
            raise OpenbookError(
                f"Not installed: held-out nDCG@10 {mine:.4f} with it against {bar:.4f} with {against}",
                hint=f"the adapter stays in {adapter}; more questions (--per-set) may help, or set "
                "retrieval.reranker to that file to use it anyway",
            )
        target = installed_reranker()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(adapter, target)
        shutil.copyfile(adapter.with_suffix(".json"), target.with_suffix(".json"))
        report["installed"] = str(target)
        if settings.retrieval.reranker is not None:
            err(f"Installed at {target}; retrieval.reranker = {settings.retrieval.reranker} is set and "
                "wins over it: unset it for searches to use this one")  # fmt: skip
        elif not settings.retrieval.rerank:
            err(f"Installed at {target}; retrieval.rerank = false: set it to true to rerank with it")
        else:
            err(f"Installed: searches now rerank with {target}")
    emit_json(report) if as_json else click.echo(json.dumps(report, indent=2))
