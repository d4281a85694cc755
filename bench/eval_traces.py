"""Read an `openbook eval qa` run back: each answer record of its answers.jsonl with the spans of
its trace, from the eval's own schema of the default database. Shared by bench/note_recall.py and
bench/gate_replay.py (no model runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openbook.assistant.embeddings import Embedder
from openbook.assistant.evaluation.qa_data import QADataset
from openbook.assistant.evaluation.qa_eval import isolated_settings
from openbook.assistant.evaluation.retrieval_eval import eval_schema
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.db import execute


def records_with_spans(
    run: Path, ds: QADataset, embedder: Embedder
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """``run``: an `eval qa --out` folder; ``ds``: the dataset it asked; ``embedder``: the one
    its library was embedded with (it names the eval schema)."""
    schema = eval_schema(ds.as_retrieval(), load_settings(), embedder)
    lines = (run / "answers.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    with Store(isolated_settings(load_settings(), schema)) as store:
        return [(r, execute(store, "spans_of_trace", {"trace_id": r["trace_id"]})) for r in records]
