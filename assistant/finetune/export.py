"""Export a trained LoRA as a GGUF adapter that llama.cpp (the in-process runtime, and Ollama's
``ADAPTER``) applies on top of the same base GGUF it was trained on — the base is never
re-quantised. Written with ``gguf`` (gguf-py) in llama.cpp's adapter format: ``general.type =
adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``, and per target ``<tensor>.lora_a`` /
``<tensor>.lora_b`` (the ``lora_b`` of q/k permuted the way llama.cpp's converter permutes q/k)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np

HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
LORA_NAME = re.compile(
    r"layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])\.weight$"
)


def permute(w: np.ndarray, n_head: int, n_head_kv: int | None = None) -> np.ndarray:
    """llama.cpp's q/k row permutation (convert_hf_to_gguf.py, LlamaModel.permute)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def base_heads(base_gguf: Path) -> tuple[int, int]:
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))

    def value(key: str) -> int:
        field = reader.fields[key]
        return int(field.parts[field.data[0]][0])

    arch = "llama"
    return value(f"{arch}.attention.head_count"), value(f"{arch}.attention.head_count_kv")


def to_gguf(state: dict[str, Any], alpha: float, base_gguf: Path, out: Path, meta: dict[str, str]) -> str:
    """Write the adapter; returns its sha256."""
    import gguf

    n_head, n_kv = base_heads(base_gguf)
    tensors: dict[str, np.ndarray] = {}
    for key, value in state.items():
        m = LORA_NAME.search(key)
        if not m:
            continue
        layer, module, ab = m.groups()
        w = value.detach().float().cpu().numpy()
        if ab == "B" and module == "self_attn.q_proj":
            w = permute(w, n_head, n_head)
        elif ab == "B" and module == "self_attn.k_proj":
            w = permute(w, n_head, n_kv)
        tensors[f"blk.{layer}.{HF_TO_GGUF[module]}.weight.lora_{ab.lower()}"] = w.astype(np.float16)
    if not tensors:
        raise ValueError("no LoRA tensors found in the adapter state")
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    for k, v in meta.items():
        writer.add_string(f"openbook.{k}", v)
    for name in sorted(tensors):
        writer.add_tensor(name, tensors[name])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return hashlib.sha256(out.read_bytes()).hexdigest()
