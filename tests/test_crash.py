"""A crash mid-ingest (SIGKILL of the ingesting process) leaves no half-ingested document."""

import os
import signal
import subprocess
import time

import pytest

from openbook.assistant import library
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.settings import IngestSettings
from tests.helpers import half_ingested, openbook_cmd


@pytest.mark.slow
def test_sigkill_mid_ingest(store, embedder, overrides, tmp_path):
    root = tmp_path / "big"
    root.mkdir()
    n_files = 150
    for i in range(n_files):
        (root / f"note{i:03}.md").write_text(
            f"# Note {i}\n\nFirst section of note {i} about orbit number {i}.\n\n"
            f"## Second\n\nMore text {i} on moons and rings.\n\n## Third\n\nLast part {i}.\n"
        )
    db = overrides["database"]
    child = subprocess.Popen(
        openbook_cmd(db, "ingest", str(root), "--no-progress"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "OPENBOOK_INGEST__EMBED_GROUP": "64"},
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and child.poll() is None:
            if library.stats(store)["documents"] > 0:
                break
            time.sleep(0.02)
        assert child.poll() is None, "the ingest finished before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    stored = library.stats(store)["documents"]
    assert 0 < stored < n_files
    assert half_ingested(store) == []
    # Running again completes the job without redoing what was stored.
    report = ingest(store, embedder, [root], IngestSettings())
    assert report.unchanged == stored and len(report.added) == n_files - stored
    assert library.stats(store)["documents"] == n_files
    assert half_ingested(store) == []
