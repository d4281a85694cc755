"""Two writers at once, on the real database: overlapping ingests never embed a file twice and
each reports what it really did; a running ingest is visible to a reader."""

import threading

from openbook.assistant import library
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.settings import IngestSettings
from openbook.assistant.store import Store
from tests.helpers import wait_until


class GatedEmbedder:
    """The real embedder, held at its first call until ``go`` is set; counts what it embeds."""

    def __init__(self, inner, gated: bool) -> None:
        self.inner, self.identity = inner, inner.identity
        self.started, self.go = threading.Event(), threading.Event()
        self.texts = 0
        if not gated:
            self.go.set()

    def embed_batch(self, texts):
        self.started.set()
        assert self.go.wait(60), "the test never released the embedder"
        self.texts += len(texts)
        return self.inner.embed_batch(texts)

    def embed(self, text):
        return self.inner.embed(text)


def _waiting_for_a_lock(store) -> bool:
    with store.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
    return row[0] > 0


def test_overlapping_ingests_embed_each_file_once_and_report_truthfully(settings, store, embedder, corpus):
    first, second = GatedEmbedder(embedder, gated=True), GatedEmbedder(embedder, gated=False)
    reports = {}

    def run(name, emb):
        with Store(settings, embedding=emb.identity) as own:
            reports[name] = ingest(own, emb, [corpus], IngestSettings())

    t1 = threading.Thread(target=run, args=("first", first))
    t1.start()
    assert first.started.wait(60)  # the first ingest holds every file's lock, mid-embedding
    t2 = threading.Thread(target=run, args=("second", second))
    t2.start()
    wait_until(lambda: _waiting_for_a_lock(store), what="the second ingest to wait for a file lock")
    assert library.ingests_running(store) == 2  # a reader can tell that ingests are running
    first.go.set()
    t1.join(60)
    t2.join(60)
    a, b = reports["first"], reports["second"]
    assert len(a.added) == 3 and a.waited == 0
    assert b.added == [] and b.updated == [] and b.unchanged == 3 and b.waited == 3
    assert second.texts == 0  # nothing embedded twice
    assert library.stats(store)["documents"] == 3
    assert library.ingests_running(store) == 0


def test_ingests_of_different_folders_do_not_wait_for_each_other(settings, store, embedder, corpus, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text("# Note\n\nA different folder with one small note in it.\n")
    first = GatedEmbedder(embedder, gated=True)
    reports = {}

    def run():
        with Store(settings, embedding=first.identity) as own:
            reports["first"] = ingest(own, first, [corpus], IngestSettings())

    t1 = threading.Thread(target=run)
    t1.start()
    assert first.started.wait(60)
    report = ingest(store, embedder, [other], IngestSettings())  # finishes while the first is held
    assert len(report.added) == 1 and report.waited == 0
    first.go.set()
    t1.join(60)
    assert len(reports["first"].added) == 3
