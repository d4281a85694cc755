"""``openbook eval``: measure retrieval and answers on datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..evaluation.qa_eval import CONFIGS, DEFAULT_CONFIGS
from .common import AppContext, emit_json, err, half_option, json_option, pass_app


@click.group("eval")
def eval_group() -> None:
    """Evaluate Openbook on datasets."""


@eval_group.command("retrieval")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A BEIR folder or a SQuAD .json file (repeatable).",
)
@click.option(
    "--mode",
    type=click.Choice(["bm25", "vector", "hybrid", "all"]),
    default="all",
    show_default=True,
)
@click.option("--limit", type=int, help="Evaluate a fixed random sample of this many queries.")
@click.option("-k", "k", type=int, default=10, show_default=True, help="k of recall@k.")
@click.option(
    "--split",
    type=click.Choice(["all", "train", "test"]),
    default="all",
    show_default=True,
    help="Questions of the held-out (test) or training articles only, split as `eval qa` does.",
)
@click.option(
    "--rewrites",
    is_flag=True,
    help="Also search each question plus the rewriter role's rewrites (plain, and anchored).",
)
@click.option(
    "--rewriter",
    "adapter",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --rewrites: this learned rewriter (a .gguf from `openbook finetune rewriter`), "
    "not the role's.",
)
@json_option
@pass_app
def eval_retrieval(
    app: AppContext,
    datasets: tuple[Path, ...],
    mode: str,
    limit: int | None,
    k: int,
    split: str,
    rewrites: bool,
    adapter: Path | None,
    as_json: bool,
) -> None:
    """hit@1/5/10, recall@k, MRR@10 and nDCG@10 per retrieval mode; with --rewrites, also of the
    question plus its rewrites, as a turn searches it."""
    from ..embeddings import make_embedder
    from ..evaluation.datasets import load
    from ..evaluation.retrieval_eval import MODES, as_table, evaluate

    settings = app.settings()
    embedder = make_embedder(settings.embedding, settings.ollama)
    modes = MODES if mode == "all" else (mode,)
    rewriter = None
    if adapter is not None and not rewrites:
        raise click.UsageError("--rewriter is the rewriter that --rewrites measures: give both.")
    if rewrites:
        from ..models.resolve import learned_role, resolve

        if adapter is not None:
            settings = settings.model_copy(deep=True)
            settings.models.rewriter = learned_role(adapter)
        resolved = resolve(settings, "rewriter")
        err(f"[rewriter: {resolved.label}: {resolved.reason}]")
        rewriter = resolved.model
    results = []
    for path in datasets:
        ds = load(path)
        result = evaluate(
            ds,
            settings,
            embedder,
            modes=modes,
            limit=limit,
            k=k,
            split=split,
            rewriter=rewriter,
            say=(lambda m: None) if as_json else err,
        )
        results.append(result)
        if not as_json:
            click.echo(as_table(result) + "\n")
    if as_json:
        emit_json(results)


@eval_group.command("qa")
@click.option(
    "--dataset",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="SQuAD-format JSON, or a folder with questions.jsonl and docs/.",
)
@click.option(
    "--configs",
    default=",".join(DEFAULT_CONFIGS),
    show_default=True,
    help=f"Comma-separated, from: {', '.join(CONFIGS)}.",
)
@click.option("--model", help="The answer model for every configuration (one may name its own).")
@click.option("--limit", type=int, help="The first N questions (in file order) of the split.")
@click.option(
    "--sample",
    type=int,
    help="A seeded random sample of N questions of the split (spread over its articles).",
)
@click.option(
    "--split",
    type=click.Choice(["all", "train", "test"]),
    default="all",
    show_default=True,
    help="Held-out split by article: test is never used for training.",
)
@half_option
@click.option(
    "--reader",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A LoRA adapter GGUF (openbook finetune export) for the ft-* configs instead of the shipped reader.",
)
@click.option(
    "--unanswerable-from",
    type=click.Path(exists=True, path_type=Path),
    help="Another dataset whose questions are asked too (of --question-type, if given); the right "
    "reply is a decline.",
)
@click.option("--unanswerable", type=int, default=0, show_default=True, help="How many of those.")
@click.option(
    "--question-type",
    type=click.Choice(["factoid", "explanatory", "yes-no"]),
    help="Only questions of this type (the rule in agents/kit/questions.py).",
)
@click.option("--out", type=click.Path(path_type=Path), help="Folder for answers.jsonl, summary and charts.")
@json_option
@pass_app
def eval_qa(
    app: AppContext,
    dataset: Path,
    configs: str,
    model: str | None,
    limit: int | None,
    sample: int | None,
    split: str,
    half: str,
    reader: Path | None,
    unanswerable_from: Path | None,
    unanswerable: int,
    question_type: str | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Answer quality of base / oracle / RAG / agent / LlamaIndex / fine-tuned, side by side."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .. import paths
    from ..embeddings import make_embedder
    from ..evaluation.qa_data import load_qa, select
    from ..evaluation.qa_data import unanswerable as unanswerable_items
    from ..evaluation.qa_eval import parse_configs
    from ..evaluation.qa_run import evaluate_qa, png_chart, table, terminal_chart

    chosen = parse_configs(configs)
    ds = load_qa(dataset)
    if limit is not None and sample is not None:
        raise click.UsageError("--limit and --sample both pick questions: give one of them.")
    items = select(ds, split, limit, half, question_type)  # type: ignore[arg-type]
    if sample is not None and sample < len(items):
        import random

        keep = set(random.Random(0).sample(range(len(items)), sample))
        items = [item for n, item in enumerate(items) if n in keep]
    if unanswerable_from is not None:
        other = load_qa(unanswerable_from)
        items += unanswerable_items(other, split, unanswerable, question_type)  # type: ignore[arg-type]
    if not items:
        raise click.UsageError("No questions selected (check --split and --limit).")
    settings = app.settings()
    out_dir = out or paths.cache_dir() / "eval-qa" / f"{ds.name}-{split}" / (model or "default-model")
    embedder = make_embedder(settings.embedding, settings.ollama)
    say = (lambda _m: None) if as_json else err
    with Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=as_json,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(config: str, done: int, total: int) -> None:
            if config not in tasks:
                tasks[config] = bar.add_task(config, total=total)
            bar.update(tasks[config], completed=done)

        summary = evaluate_qa(
            ds,
            items,
            chosen,
            settings,
            embedder,
            out_dir,
            answer_model=model,
            reader=reader,
            say=say,
            progress=progress,
        )
    png = png_chart(summary, out_dir / "qa.png")
    if as_json:
        emit_json(summary)
        return
    click.echo(table(summary))
    click.echo(terminal_chart(summary))
    click.echo(f"Per-question answers: {out_dir / 'answers.jsonl'}   chart: {png}")
