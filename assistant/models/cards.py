"""A fine-tuned model's card (lineage JSON beside its GGUF), as the run time reads it: which
model an adapter is. ``finetune/lineage.py`` writes the cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def card_path(model: Path) -> Path:
    return model.with_suffix(".json")


def read(model: Path) -> dict[str, Any] | None:
    path = card_path(model)
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except (OSError, ValueError):
        return None
