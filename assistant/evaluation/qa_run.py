"""Running ``openbook eval qa`` end to end (dataset → isolated store → configurations →
``answers.jsonl`` → summary) and reporting it (a table, a PNG chart, a terminal chart)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..embeddings import Embedder
from ..settings import Settings
from ..store import Store
from .qa_data import QADataset, QAItem
from .qa_eval import READER, Config, Runner, append, load_done, summarize
from .schemas import ensure_ingested, isolated_settings

Progress = Callable[[str, int, int], None]  # (config, done, total)


def evaluate_qa(
    ds: QADataset,
    items: list[QAItem],
    configs: list[Config],
    settings: Settings,
    embedder: Embedder,
    out_dir: Path,
    *,
    answer_model: str | None = None,
    reader: Path | None = None,
    models: dict[str, Any] | None = None,
    say: Callable[[str], None] = lambda _m: None,
    progress: Progress = lambda _c, _d, _t: None,
) -> dict[str, Any]:
    from ..models.llamacpp_backend import bundled_gguf
    from ..models.resolve import reader_adapter, resolve, resolve_roles
    from .retrieval_eval import eval_schema

    out_dir.mkdir(parents=True, exist_ok=True)
    answers = out_dir / "answers.jsonl"
    done = load_done(answers)
    if any(c.model == READER for c in configs):
        done = _same_reader(out_dir, reader or reader_adapter(), done)
    if done:
        say(f"Resuming: {len(done)} answers already in {answers}")
    settings = settings.model_copy(deep=True)
    settings.models.reader = False  # base, rag, agent…: the base model; the ft-* configs name the reader
    if answer_model:
        settings.models.answerer = settings.models.default.model_copy(update={"model": answer_model})
    eval_settings = isolated_settings(settings, eval_schema(ds.as_retrieval(), settings, embedder))
    if models is None:
        models, _ = resolve_roles(eval_settings)  # loaded once for the whole run

    def resolve_answerer(name: str) -> Any:
        s = eval_settings.model_copy(deep=True)
        s.models.answerer = s.models.default.model_copy(update={"model": name})
        if reader is not None and name == READER:  # another adapter on the bundled base, in-process
            s.models.answerer = s.models.default.model_copy(
                update={"model": reader.stem, "gguf": bundled_gguf(), "lora": reader, "backend": "in-process"}
            )
        return resolve(s, "answerer").model

    summary: dict[str, Any] = {
        "dataset": ds.name,
        "questions": len(items),
        "schema": eval_settings.database.db_schema,
        "rewriter": getattr(models.get("rewriter"), "name", None),  # the agent configs' (when on)
        "configs": {},
    }
    with Store(eval_settings, embedding=embedder.identity) as store:
        store.check_embedding(embedder.identity)
        ensure_ingested(store, embedder, ds, eval_settings, say)
        runner = Runner(ds, store, embedder, eval_settings, models, resolve_answerer)
        for config in configs:
            todo = [i for i in items if (i.id, config.name) not in done]
            t0 = time.perf_counter()
            for n, item in enumerate(todo, 1):
                record = runner.answer(config, item)
                append(answers, record)
                done[(item.id, config.name)] = record
                progress(config.name, len(items) - len(todo) + n, len(items))
            wall = time.perf_counter() - t0 if todo else None
            records = [done[(i.id, config.name)] for i in items]
            summary["configs"][config.name] = {
                "model": records[0].model if records else "",
                **summarize(records, wall if todo and len(todo) == len(items) else None),
            }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _same_reader(
    out_dir: Path, adapter: Path, done: dict[tuple[str, str], Any]
) -> dict[tuple[str, str], Any]:
    """Resuming the ft-* configurations is only right with the very adapter that wrote their
    answers (a retrained reader keeps its name): ``reader.json`` in the output folder records its
    sha256, and answers of another one are an error, not a silent resume."""
    from ..finetune.lineage import sha256_of

    stamp = out_dir / "reader.json"
    digest = sha256_of(adapter) if adapter.exists() else None
    previous = json.loads(stamp.read_text()).get("sha256") if stamp.exists() else None
    ft_done = any(config.startswith("ft") for _id, config in done)
    if ft_done and previous != digest:
        from ..errors import OpenbookError

        raise OpenbookError(
            f"{out_dir / 'answers.jsonl'} holds fine-tuned answers of another reader "
            f"({(previous or 'unrecorded')[:12]}…, now {(digest or 'none')[:12]}…)",
            hint="give eval qa a new --out folder (or delete the old answers) to evaluate this reader",
        )
    stamp.write_text(json.dumps({"adapter": str(adapter), "sha256": digest}))
    return done


COLUMNS = [
    ("F1", "f1"),
    ("EM", "em"),
    ("contains", "contained"),
    ("cite P", "cite_precision"),
    ("cite R", "cite_recall"),
    ("gold@k", "gold_hit"),
    ("declines ans.", "decline_answerable"),
    ("… with gold", "decline_answerable_gold"),
    ("declines unans.", "decline_unanswerable"),
    ("support ∋ gold", "support_contains"),
]


def table(summary: dict[str, Any]) -> str:
    """The summary as a fixed-width text table (percentages; latency in seconds)."""

    def pct(v: Any) -> str:
        return "—" if v is None else f"{100 * v:.1f}"

    def by_type() -> list[str]:
        out = []
        for name, s in summary["configs"].items():
            for kind, k in (s.get("by_type") or {}).items():
                out.append(
                    f"  {name:<10} {kind:<12} {k['answerable']:>4} questions  F1 {pct(k['f1'])}  "
                    f"contains {pct(k['contained'])}  declines {pct(k['decline_answerable'])}  "
                    f"support ∋ gold {pct(k['support_contains'])}"
                )
        return ["By question type (answerable; agents/kit/questions.py):", *out] if out else []

    def by_shape() -> list[str]:
        out = []
        for name, s in summary["configs"].items():
            shapes = s.get("by_shape") or {}
            if set(shapes) <= {"single"}:
                continue
            for kind, k in shapes.items():
                out.append(
                    f"  {name:<10} {kind:<12} {k['answerable']:>4} questions  F1 {pct(k['f1'])}  "
                    f"contains {pct(k['contained'])}  declines {pct(k['decline_answerable'])}  "
                    f"both passages {pct(k['gold_all'])}  yes/no said {pct(k['yes_no'])}"
                )
        return ["By question shape (answerable; agents/kit/shapes.py):", *out] if out else []

    head = ["config", *[c for c, _ in COLUMNS], "F1 95% CI", "p50 s", "p95 s", "tok in", "tok out"]
    rows = []
    for name, s in summary["configs"].items():
        lo, hi = s["f1_ci95"]
        rows.append(
            [name, *[pct(s.get(k)) for _, k in COLUMNS], f"{100 * lo:.1f}–{100 * hi:.1f}",
             f"{s['latency_p50_s']:.2f}", f"{s['latency_p95_s']:.2f}",
             f"{s['tokens_in'] or 0:.0f}", f"{s['tokens_out'] or 0:.0f}"]
        )  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [f"{summary['dataset']}: {summary['questions']} questions"]
    for r in [head, *rows]:
        lines.append(
            "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
    return "\n".join([*lines, *by_type(), *by_shape()])


def png_chart(summary: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary["configs"])
    f1 = [100 * (summary["configs"][n]["f1"] or 0) for n in names]
    lo = [f - 100 * summary["configs"][n]["f1_ci95"][0] for f, n in zip(f1, names, strict=True)]
    hi = [100 * summary["configs"][n]["f1_ci95"][1] - f for f, n in zip(f1, names, strict=True)]
    lat = [summary["configs"][n]["latency_p50_s"] for n in names]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.bar(names, f1, yerr=[lo, hi], capsize=4, color="#4c72b0")
    a.set_title("F1 (95% bootstrap interval)")
    a.set_ylabel("F1 %")
    b.bar(names, lat, color="#dd8452")
    b.set_title("Latency p50")
    b.set_ylabel("seconds")
    for ax in (a, b):
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"{summary['dataset']} — {summary['questions']} questions")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def terminal_chart(summary: dict[str, Any], width: int = 80) -> str:
    """F1 and latency per configuration as two bar charts (plotext)."""
    import plotext as plt

    names = list(summary["configs"])
    charts = []
    for title, values in (
        ("F1 %", [round(100 * (summary["configs"][n]["f1"] or 0), 1) for n in names]),
        ("latency p50 (s)", [summary["configs"][n]["latency_p50_s"] for n in names]),
    ):
        plt.clear_figure()
        plt.bar(names, values)
        plt.title(title)
        plt.plotsize(width, 12)
        plt.theme("clear")
        charts.append(str(plt.build()))
    return "\n".join(charts)
