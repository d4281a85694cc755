"""Ingestion benchmark: whole pipeline vs the raw embedder, and re-ingest of an unchanged corpus.

    .venv/bin/python bench/ingest.py [--chunks 10000] [--json out.json]

Builds a synthetic markdown corpus (text drawn from the bundled sample documents) of about
``--chunks`` chunks, then measures, on the same machine and with the model already loaded:

1. the raw embedder alone on exactly the texts the pipeline embeds (chunks/s);
2. the full pipeline into a fresh schema of a fresh embedded database (chunks/s, files/s);
3. re-ingesting the unchanged corpus (seconds, and as a share of the first ingest).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from openbook.assistant import library, paths
from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.ingest.parse import parse_file
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store


def build_corpus(root: Path, target_chunks: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    sentences = []
    for doc in sorted(paths.sample_docs_dir().glob("*.md")):
        for para in doc.read_text().split("\n\n"):
            if not para.startswith("#"):
                sentences += [s.strip() + "." for s in para.replace("\n", " ").split(". ") if s]
    # ~6 sections of ~170 words per file; each section becomes about one 200-token chunk.
    n_files = max(1, target_chunks // 6)
    for i in range(n_files):
        parts = [f"# Synthetic note {i}"]
        for j in range(6):
            body = " ".join(rng.choice(sentences) for _ in range(5))
            parts.append(f"## Section {j}\n\n{body}")
        (root / f"note{i:05}.md").write_text("\n\n".join(parts) + "\n")
    return n_files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="openbook-bench-"))
    corpus = work / "corpus"
    corpus.mkdir()
    n_files = build_corpus(corpus, args.chunks)
    settings = load_settings({"database": {"data_dir": str(work / "pg"), "db_schema": "bench"}})
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    embedder.embed_batch(["warm up"])  # load the model outside every timing

    cfg = settings.ingest
    parsed = [parse_file(p, cfg.chunk_size, cfg.chunk_overlap, 10**9) for p in sorted(corpus.iterdir())]
    texts = [library.embedding_text(p.title, c.text, c.metadata) for p in parsed for c in p.chunks]
    t0 = time.perf_counter()
    embedder.embed_batch(texts)
    raw_s = time.perf_counter() - t0

    with Store(settings, embedding=embedder.identity) as store:
        first = ingest(store, embedder, [corpus], cfg)
        again = ingest(store, embedder, [corpus], cfg)
        assert first.chunks == len(texts), (first.chunks, len(texts))
        assert again.unchanged == n_files

    result = {
        "files": n_files,
        "chunks": len(texts),
        "raw_embedder_s": round(raw_s, 2),
        "raw_embedder_chunks_per_s": round(len(texts) / raw_s, 1),
        "pipeline_s": round(first.seconds, 2),
        "pipeline_chunks_per_s": round(first.chunks / first.seconds, 1),
        "pipeline_files_per_s": round(n_files / first.seconds, 1),
        "pipeline_vs_raw": round((first.chunks / first.seconds) / (len(texts) / raw_s), 3),
        "reingest_unchanged_s": round(again.seconds, 2),
        "reingest_share_of_first": round(again.seconds / first.seconds, 4),
    }
    for key, value in result.items():
        print(f"{key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
