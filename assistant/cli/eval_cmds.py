"""``openbook eval``: measure retrieval (and, later, answers) on datasets."""

from __future__ import annotations

from pathlib import Path

import click

from .common import AppContext, emit_json, err, json_option, pass_app


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
@json_option
@pass_app
def eval_retrieval(
    app: AppContext, datasets: tuple[Path, ...], mode: str, limit: int | None, k: int, as_json: bool
) -> None:
    """hit@1/5/10, recall@k, MRR@10 and nDCG@10 per retrieval mode."""
    from ..embeddings import make_embedder
    from ..evaluation.datasets import load
    from ..evaluation.retrieval_eval import MODES, as_table, evaluate

    settings = app.settings()
    embedder = make_embedder(settings.embedding, settings.ollama)
    modes = MODES if mode == "all" else (mode,)
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
            say=(lambda m: None) if as_json else err,
        )
        results.append(result)
        if not as_json:
            click.echo(as_table(result) + "\n")
    if as_json:
        emit_json(results)
