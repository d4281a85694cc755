"""Merge a trained LoRA into the base and write a standalone GGUF (f16 or q8_0), with gguf-py.

Every base tensor is dequantised from the bundled Q4_1 file (the weights the adapter was trained
on), the LoRA delta ``alpha/r · B·A`` is added where there is one (``lora_b`` permuted for q/k as
llama.cpp's converter does), and the result is written as f16 or q8_0 — never re-quantised to
Q4_1, which erased a fine-tune in a trial run. Norms and other 1-D tensors stay f32. All metadata
(tokenizer, chat template, hyper-parameters) is copied from the base.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .export import HF_TO_GGUF, LORA_NAME, base_heads, permute

Precision = Literal["f16", "q8_0"]
FILE_TYPE = {"f16": 1, "q8_0": 7}  # llama_ftype: MOSTLY_F16, MOSTLY_Q8_0


def deltas(state: dict[str, Any], alpha: float, n_head: int, n_kv: int) -> dict[str, np.ndarray]:
    """GGUF tensor name → the LoRA's weight delta, (out, in) float32, in GGUF row order."""
    parts: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for key, value in state.items():
        m = LORA_NAME.search(key)
        if m:
            layer, module, ab = m.groups()
            parts.setdefault((layer, module), {})[ab] = value.detach().float().cpu().numpy()
    out = {}
    for (layer, module), ab in parts.items():
        a, b = ab["A"], ab["B"]
        if module == "self_attn.q_proj":
            b = permute(b, n_head, n_head)
        elif module == "self_attn.k_proj":
            b = permute(b, n_head, n_kv)
        out[f"blk.{layer}.{HF_TO_GGUF[module]}.weight"] = (alpha / a.shape[0]) * (b @ a)
    return out


def merged_gguf(
    state: dict[str, Any],
    alpha: float,
    base_gguf: Path,
    out: Path,
    precision: Precision,
    meta: dict[str, str],
) -> str:
    """Write the merged model; returns its sha256."""
    import gguf
    from gguf.quants import dequantize, quantize

    if precision not in FILE_TYPE:
        raise ValueError(f"precision must be one of {', '.join(FILE_TYPE)} (never Q4_1), not {precision!r}")
    n_head, n_kv = base_heads(base_gguf)
    add = deltas(state, alpha, n_head, n_kv)
    if not add:
        raise ValueError("no LoRA tensors found in the adapter state")
    reader = gguf.GGUFReader(str(base_gguf))
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), arch)
    for field in reader.fields.values():
        if field.name in ("general.architecture", "general.file_type") or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    writer.add_file_type(FILE_TYPE[precision])
    for k, v in meta.items():
        writer.add_string(f"openbook.{k}", v)
    used = set()
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32)
        if t.name in add:
            w = w + add[t.name].reshape(w.shape)
            used.add(t.name)
        if w.ndim == 1:
            writer.add_tensor(t.name, w)
        elif precision == "f16":
            writer.add_tensor(t.name, w.astype(np.float16))
        else:
            q = quantize(w, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    if used != set(add):
        raise ValueError(f"LoRA targets missing from the base: {sorted(set(add) - used)[:3]}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    digest = hashlib.sha256()
    with out.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
