"""Ingestion against the real database and the real bundled embedding model."""

import os
from pathlib import Path

import pytest

from openbook.assistant import library
from openbook.assistant.errors import IngestError
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.settings import IngestSettings
from tests.helpers import half_ingested

CFG = IngestSettings()


def _chunk_rows(store):
    with store.connection() as conn:
        return conn.execute(
            "SELECT d.source, c.id, c.ordinal, c.text FROM chunks c JOIN documents d "
            "ON d.id = c.document_id ORDER BY d.source, c.ordinal"
        ).fetchall()


def _generation(store):
    return library.stats(store)["corpus_generation"]


def test_first_ingest_stores_documents_chunks_and_embeddings(store, embedder, corpus):
    report = ingest(store, embedder, [corpus], CFG)
    assert sorted(Path(s).name for s in report.added) == ["mars.md", "tides.txt", "venus.md"]
    assert report.failed == [] and report.unchanged == 0
    docs = {Path(d["source"]).name: d for d in library.list_documents(store)}
    assert docs["mars.md"]["title"] == "Mars" and docs["mars.md"]["kind"] == "markdown"
    assert docs["tides.txt"]["kind"] == "text"
    mars_chunks = library.chunks_of(store, docs["mars.md"]["id"])
    assert [c["metadata"].get("section") for c in mars_chunks] == ["Mars", "Mars > Moons"]
    # Vectors are real, normalised embeddings: the Venus question is nearest to the Venus doc.
    hit = library.nearest(store, embedder.embed_batch(["Why is Venus so hot?"])[0], 1)[0]
    assert hit["source"].endswith("venus.md")
    assert report.chunks == len(_chunk_rows(store)) == sum(d["chunk_count"] for d in docs.values())


def test_reingest_unchanged_is_skipped(store, embedder, corpus):
    ingest(store, embedder, [corpus], CFG)
    before, gen = _chunk_rows(store), _generation(store)
    report = ingest(store, embedder, [corpus], CFG)
    assert report.unchanged == 3 and not report.added and not report.updated
    assert report.chunks == 0
    assert _chunk_rows(store) == before  # same chunk ids: nothing rewritten
    assert _generation(store) == gen


def test_changed_file_replaces_its_chunks(store, embedder, corpus):
    ingest(store, embedder, [corpus], CFG)
    old_ids = {r[1] for r in _chunk_rows(store) if r[0].endswith("venus.md")}
    gen = _generation(store)
    (corpus / "venus.md").write_text("# Venus\n\nVenus rotates backwards, once every 243 days.\n")
    report = ingest(store, embedder, [corpus], CFG)
    assert [Path(s).name for s in report.updated] == ["venus.md"] and report.unchanged == 2
    rows = [r for r in _chunk_rows(store) if r[0].endswith("venus.md")]
    assert len(rows) == 1 and "243 days" in rows[0][3]
    assert not old_ids & {r[1] for r in rows}
    assert _generation(store) > gen


def test_chunk_settings_change_rechunks(store, embedder, corpus):
    ingest(store, embedder, [corpus], CFG)
    report = ingest(store, embedder, [corpus], IngestSettings(chunk_size=64, chunk_overlap=0))
    assert len(report.updated) == 3


def test_prune_removes_documents_whose_files_are_gone(store, embedder, corpus):
    ingest(store, embedder, [corpus], CFG)
    (corpus / "mars.md").unlink()
    kept = ingest(store, embedder, [corpus], CFG)
    assert kept.removed == []
    assert any(d["source"].endswith("mars.md") for d in library.list_documents(store))
    pruned = ingest(store, embedder, [corpus], CFG, prune=True)
    assert [Path(s).name for s in pruned.removed] == ["mars.md"]
    assert not any(r[0].endswith("mars.md") for r in _chunk_rows(store))
    assert len(library.list_documents(store)) == 2


def test_glob_limits_files(store, embedder, corpus):
    report = ingest(store, embedder, [corpus], CFG, globs=["*.txt"])
    assert [Path(s).name for s in report.added] == ["tides.txt"]


def test_bad_files_are_listed_and_never_abort(store, embedder, corpus, tmp_path):
    bad = corpus / "bad"
    bad.mkdir()
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (bad / "empty.md").write_text("")
    (bad / "blank.md").write_text("   \n\n  ")
    (bad / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (bad / "huge.txt").write_text("word " * 300_000)  # 1.5 MB
    (bad / "dangling.md").symlink_to(bad / "does-not-exist.md")
    (bad / "loop_a.md").symlink_to(bad / "loop_b.md")
    (bad / "loop_b.md").symlink_to(bad / "loop_a.md")
    (bad / "dirloop").symlink_to(bad)
    (bad / "fake.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    unreadable = bad / "secret.md"
    unreadable.write_text("# Secret\n\nhidden")
    unreadable.chmod(0)
    report = ingest(store, embedder, [corpus], IngestSettings(max_file_mb=1))
    reasons = {Path(p.path).name: p.reason for p in report.failed}
    assert "binary" in reasons["binary.txt"]
    assert reasons["empty.md"] == "empty file"
    assert "empty" in reasons["blank.md"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "size limit" in reasons["huge.txt"]
    assert "broken symlink" in reasons["dangling.md"]
    assert reasons["loop_a.md"] == "symlink loop" and reasons["loop_b.md"] == "symlink loop"
    assert "symlink loop" in reasons["dirloop"]
    assert "PDF" in reasons["fake.pdf"]
    if os.geteuid() != 0:  # root reads any file regardless of its mode
        assert reasons["secret.md"] == "permission denied"
    # The good files still went in.
    expected = ["mars.md", "tides.txt", "venus.md"] + (["secret.md"] if os.geteuid() == 0 else [])
    assert sorted(Path(s).name for s in report.added) == sorted(expected)


def test_pdf_html_rst_and_code(store, embedder, tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    root = tmp_path / "mixed"
    root.mkdir()
    pdf = canvas.Canvas(str(root / "report.pdf"), pagesize=A4)
    pdf.drawString(72, 800, "Page one talks about Jupiter's Great Red Spot.")
    pdf.showPage()
    pdf.drawString(72, 800, "Page two is about Saturn's rings of ice.")
    pdf.save()
    (root / "page.html").write_text(
        "<html><head><title>Comets</title><script>var x=1;</script></head>"
        "<body><h1>Comets</h1><p>Comets have two tails.</p></body></html>"
    )
    (root / "guide.rst").write_text("Eclipses\n========\n\nA solar eclipse happens at new moon.\n")
    (root / "orbit.py").write_text("def period(a):\n    '''Kepler's third law.'''\n    return a ** 1.5\n")
    (root / "image.png").write_bytes(b"\x89PNG\r\n")
    report = ingest(store, embedder, [root], CFG)
    assert report.failed == [] and report.unsupported == 1
    docs = {Path(d["source"]).name: d for d in library.list_documents(store)}
    assert {k: d["kind"] for k, d in docs.items()} == {
        "report.pdf": "pdf",
        "page.html": "html",
        "guide.rst": "rst",
        "orbit.py": "code",
    }
    assert docs["page.html"]["title"] == "Comets"
    pages = [c["metadata"].get("page") for c in library.chunks_of(store, docs["report.pdf"]["id"])]
    assert pages == ["1", "2"]
    html_text = library.chunks_of(store, docs["page.html"]["id"])[0]["text"]
    assert "two tails" in html_text
    code = library.find_document(store, str(root / "orbit.py"))
    assert code["metadata"] == {"language": "python"}


def test_missing_path_and_empty_folder(store, embedder, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="No supported files"):
        ingest(store, embedder, [tmp_path / "empty"], CFG)
    report = ingest(store, embedder, [tmp_path / "nope"], CFG)
    assert report.failed[0].reason.startswith("no such file")


class _InterruptingEmbedder:
    """The real embedder, interrupted (Ctrl-C) on its second call."""

    def __init__(self, real):
        self.real, self.identity, self.calls = real, real.identity, 0

    def embed_batch(self, texts):
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt
        return self.real.embed_batch(texts)


def test_ctrl_c_leaves_no_half_document(store, embedder, tmp_path, monkeypatch):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(6):
        (root / f"doc{i}.md").write_text(f"# Doc {i}\n\nParagraph one of {i}.\n\n## B\n\nTwo {i}.\n")
    report = ingest(store, _InterruptingEmbedder(embedder), [root], IngestSettings(embed_group=2))
    assert report.interrupted
    docs = library.list_documents(store)
    assert 0 < len(docs) < 6
    assert half_ingested(store) == []
    rerun = ingest(store, embedder, [root], CFG)
    assert rerun.unchanged == len(docs) and len(rerun.added) == 6 - len(docs)


def test_failed_replacement_keeps_the_old_version(store, embedder, corpus, monkeypatch):
    ingest(store, embedder, [corpus], CFG)
    before = [r for r in _chunk_rows(store) if r[0].endswith("venus.md")]
    (corpus / "venus.md").write_text("# Venus\n\nA new version that will fail to store.\n")
    from openbook.db import documents as lib

    real_query = lib.query

    def broken(name):
        if name == "copy_chunks":
            return "COPY chunks (document_id, nonexistent) FROM STDIN WITH (FORMAT BINARY)"
        return real_query(name)

    monkeypatch.setattr(lib, "query", broken)
    import psycopg

    with pytest.raises(psycopg.errors.UndefinedColumn):
        ingest(store, embedder, [corpus], CFG)
    monkeypatch.setattr(lib, "query", real_query)
    after = [r for r in _chunk_rows(store) if r[0].endswith("venus.md")]
    assert after == before
    doc = library.find_document(store, str(corpus / "venus.md"))
    assert doc["chunk_count"] == len(before)


def test_hostile_files_get_one_sentence_reasons_and_good_text_is_kept(store, embedder, tmp_path):
    import time

    from reportlab.pdfgen import canvas

    from openbook.assistant.ingest.parse import parse_file

    root = tmp_path / "hostile"
    root.mkdir()
    (root / "script.html").write_text(
        "<html><head><style>body{color:red}</style><script>var secret = 'js code';</script></head>"
        "<body><script>alert('x')</script><noscript>enable js</noscript><template>t</template>"
        "<!-- a comment --></body></html>"
    )
    (root / "page.html").write_text(
        "<html><head><title>Moons</title><script>var x = 1;</script></head>"
        "<body><p>Phobos orbits Mars.</p><script>track()</script></body></html>"
    )
    (root / "invisible.txt").write_text("\u200b\u200c\u200d\ufeff\x01\x02 \n\t\u2060" * 50)
    (root / "utf16.txt").write_bytes("Deimos is the smaller moon of Mars.".encode("utf-16"))  # BOM
    (root / "utf32.txt").write_bytes("Titan has lakes of methane.".encode("utf-32"))
    (root / "utf8bom.txt").write_bytes(b"\xef\xbb\xbfCeres is a dwarf planet.")
    pdf = root / "full.pdf"
    c = canvas.Canvas(str(pdf))
    c.drawString(72, 720, "Io has volcanoes.")
    c.save()
    (root / "truncated.pdf").write_bytes(pdf.read_bytes()[:300])
    pdf.unlink()
    sentence = "Europa has an ocean under its ice shell and may harbour life. "
    (root / "oneline.md").write_text("# One line\n\n" + sentence * 5000)  # ~320 kB on one line

    report = ingest(store, embedder, [root], CFG)
    reasons = {Path(p.path).name: p.reason for p in report.failed}
    assert set(reasons) == {"script.html", "invisible.txt", "truncated.pdf"}, reasons
    assert "no visible text" in reasons["script.html"] and "no visible text" in reasons["invisible.txt"]
    assert reasons["truncated.pdf"] == "an unreadable PDF (damaged or truncated)"
    for reason in reasons.values():  # one human sentence: no exception reprs
        assert "<" not in reason and "Error" not in reason and "\n" not in reason
    stats = library.stats(store)  # what `openbook status` shows matches what was reported
    assert stats["documents"] == len(report.added) == 5 and stats["chunks"] == report.chunks
    texts = {Path(r["source"]).name: r["text"] for r in _texts(store)}
    assert "Phobos orbits Mars." in texts["page.html"] and "track()" not in texts["page.html"]
    assert texts["utf16.txt"] == "Deimos is the smaller moon of Mars."
    assert texts["utf32.txt"] == "Titan has lakes of methane." and texts["utf8bom.txt"].startswith("Ceres")
    started = time.perf_counter()
    parsed = parse_file(root / "oneline.md", 200, 30, 10**8)
    assert time.perf_counter() - started < 30
    assert 200 < len(parsed.chunks) < 700  # about 320 kB in ~700-character chunks (200 tokens)
    assert max(len(c.text) for c in parsed.chunks) < 3000


def _texts(store):
    with store.connection() as conn:
        rows = conn.execute(
            "SELECT d.source, string_agg(c.text, ' ' ORDER BY c.ordinal) FROM documents d "
            "JOIN chunks c ON c.document_id = d.id GROUP BY d.source"
        ).fetchall()
    return [{"source": s, "text": t} for s, t in rows]


def test_a_big_file_shows_progress_within_the_file(store, embedder, tmp_path, monkeypatch):
    from openbook.assistant.cli import progress as cli_progress
    from openbook.assistant.ingest.pipeline import QuietProgress

    big = tmp_path / "one-line.md"
    big.write_text(" ".join(f"word{i} is in the long line." for i in range(3000)))  # one line, ~18k words

    class Recorder(QuietProgress):
        def __init__(self):
            self.groups, self.chunks = [], 0

        def embedding(self, chunks, sources):
            self.groups.append((chunks, sources))

        def advance(self, files=0, chunks=0):
            self.chunks += chunks

    seen = Recorder()
    report = ingest(store, embedder, [big], CFG, progress=seen)
    assert seen.groups == [(report.chunks, [str(big)])] and report.chunks > 20
    assert seen.chunks == report.chunks  # moved during the embedding, not only at the end

    monkeypatch.setattr(cli_progress, "BIG_GROUP", 10)
    bar = cli_progress.IngestProgress(enabled=False)
    bar.start(1)
    bar.embedding(40, [str(big)])
    bar.advance(chunks=30)
    task = [t for t in bar._bar.tasks if t.fields["unit"] == "chunks"][0]
    assert task.total == 40 and task.completed == 30 and "one-line.md" in task.fields["rates"]
