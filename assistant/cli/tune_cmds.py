"""``openbook tune retrieval``: calibrate fusion to this library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import AppContext, emit_json, err, json_option, open_store, pass_app


@click.group("tune")
def tune() -> None:
    """Calibrate retrieval to this library."""


@tune.command("retrieval")
@click.option(
    "--kind",
    type=click.Choice(["generated", "masked", "questions"]),
    default="generated",
    show_default=True,
    help="Pseudo-queries: a model's questions about sampled chunks (models.teacher), or a sentence "
    "held out of its chunk (no model; measured to favour the vector leg too much: docs/benchmarks.md), or "
    "your own questions (--questions).",
)
@click.option(
    "--questions",
    "questions_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='--kind questions: lines {"question": "...", "gold_doc": "a stored document"}.',
)
@click.option(
    "--queries",
    type=click.IntRange(10, 5000),
    default=200,
    show_default=True,
    help="Chunks to make them from.",
)
@click.option(
    "--teacher", help="--kind generated: the model that writes questions (default: models.teacher)."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--dry-run", is_flag=True, help="Measure and show, but keep the current fusion.")
@click.option("--reset", is_flag=True, help="Forget the calibration: turns use the safe default.")
@json_option
@pass_app
def tune_retrieval(
    app: AppContext,
    kind: str,
    queries: int,
    teacher: str | None,
    questions_file: Path | None,
    seed: int,
    dry_run: bool,
    reset: bool,
    as_json: bool,
) -> None:
    """Pick the fusion of the BM25 and vector legs for this library from pseudo-queries made from
    it, and the evidence gate (how far a question's nearest chunk may be), store them with the
    library, and show before/after. The safe default fusion stays unless the calibrated choice
    is surely better on them."""
    from ..retrieval.retriever import Retriever
    from ..tuning import tune as tuning

    settings = app.settings()
    if questions_file is not None:
        kind = "questions"  # your questions are the best probe there is
    elif kind == "questions":
        raise click.UsageError("--kind questions needs --questions FILE.")
    model = _teacher(settings, teacher) if kind == "generated" and not reset else None
    with open_store(settings, with_embedder=True) as (store, embedder):
        store.check_embedding(embedder.identity)
        retriever = Retriever(store, embedder, settings.retrieval)
        if reset:
            had = tuning.forget(retriever)
            click.echo(
                "Calibration forgotten; turns use the safe default." if had else "No calibration stored."
            )
            return
        before, source = retriever.fusion()
        result = tuning.run(
            retriever,
            kind,  # type: ignore[arg-type]
            queries,
            teacher=model,
            questions=questions_file,
            seed=seed,
            say=err,
        )
        result["stored"] = not dry_run
        if not dry_run:
            tuning.save(retriever, result)
    if as_json:
        emit_json({**result, "before": {"label": before.label(), "source": source}})
        return
    _show(result, f"{before.label()} ({source})", dry_run)


def _teacher(settings: Any, name: str | None) -> Any:
    from ..models.resolve import resolve

    if name:
        settings = settings.model_copy(deep=True)
        settings.models.teacher = settings.models.default.model_copy(update={"model": name})
    resolved = resolve(settings, "teacher")
    err(f"[teacher: {resolved.label}: {resolved.reason}]")
    return resolved.model


def _show(result: dict[str, Any], before: str, dry_run: bool) -> None:
    f = result["figures"]
    what = "of your questions" if result["kind"] == "questions" else f"{result['kind']} pseudo-queries"
    right = "document" if result["kind"] == "questions" else "chunk"
    click.echo(
        f"{result['queries']} {what}, {result['chunks']} chunks ({result['seconds']} s), "
        f"nDCG@10 of the right {right}:"
    )
    click.echo(f"  BM25 alone       {f['bm25_ndcg']:.4f}")
    click.echo(f"  vector alone     {f['vector_ndcg']:.4f}")
    click.echo(f"  safe default     {f['default_ndcg']:.4f}   {result['default']}")
    interval = f"95% {f['gain_low']:+.4f} to {f['gain_high']:+.4f}"
    click.echo(f"  best candidate   {f['best_ndcg']:.4f}   gain {f['gain']:+.4f} ({interval})")
    click.echo(f"Before: {before}")
    verb = "Would use" if dry_run else "Now using"
    click.echo(f"{verb}: {result['label']} (nDCG@10 {f['chosen_ndcg']:.4f})")
    if result["label"] == result["default"]:
        click.echo("The safe default stays: no candidate was surely better on this library.")
    g = result.get("gate")
    if g:
        click.echo(
            f"Evidence gate: {'would turn' if dry_run else 'turns'} a question away when its nearest "
            f"chunk is farther than {g['max_distance']:.3f} (lets {g['quantile']:.1%} of these "
            f"{g['queries']} through; their median distance {g['median']:.3f})"
        )
