"""The ``openbook`` command, run in-process through ``main()`` (real database, real model)."""

import json
from pathlib import Path

import numpy as np
import pytest

from openbook.assistant.cli.main import main


def run(capsys, overrides, *args):
    db = overrides["database"]
    argv = ["--data-dir", db["data_dir"], "--schema", db["db_schema"], *args]
    with pytest.raises(SystemExit) as info:
        main(argv)
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return info.value.code or 0, out, err


@pytest.fixture
def cleanup_schema(overrides, settings):
    yield
    from openbook.assistant.store import Store

    with Store(settings, embedding=None) as s, s.connection() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{s.schema}" CASCADE')
        conn.commit()


def test_ingest_status_docs_json(capsys, overrides, corpus, cleanup_schema):
    code, out, _ = run(capsys, overrides, "ingest", str(corpus), "--json")
    assert code == 0
    report = json.loads(out)
    assert len(report["added"]) == 3 and report["failed"] == []

    code, out, _ = run(capsys, overrides, "status", "--json")
    status = json.loads(out)
    assert status["documents"] == 3 and status["chunks"] == report["chunks_written"]
    assert status["embedding_dimension"] == 384 and status["embedding_mismatch"] is False
    assert "embedded PostgreSQL" in status["database"] and status["database_bytes"] > 0
    # What retrieval uses, and where it comes from (no `tune retrieval` yet: the defaults).
    assert status["fusion"] == "absolute alpha=0.5" and status["fusion_from"] == "default"
    assert status["gate"] == 0.7 and status["gate_from"] == "default"
    reading = [status[k] for k in ("read_hits", "read_anchor_rank", "read_order_weight", "reading_from")]
    assert reading == [10, 1, 0, "default"]  # nor a reading rewriter installed

    code, out, _ = run(capsys, overrides, "docs", "list", "--json")
    docs = json.loads(out)
    mars = next(d for d in docs if d["source"].endswith("mars.md"))

    code, out, _ = run(capsys, overrides, "docs", "show", str(mars["id"]), "--json")
    shown = json.loads(out)
    assert shown["title"] == "Mars" and len(shown["chunks"]) == mars["chunk_count"]

    code, out, _ = run(capsys, overrides, "docs", "show", str(corpus / "mars.md"))
    assert code == 0 and "Phobos and Deimos" in out

    code, out, _ = run(capsys, overrides, "docs", "rm", str(mars["id"]), "--json")
    assert json.loads(out)["removed"] == [mars["source"]]
    code, out, _ = run(capsys, overrides, "docs", "list", "--json")
    assert len(json.loads(out)) == 2


def test_text_output_and_summary_of_bad_files(capsys, overrides, corpus, cleanup_schema):
    (corpus / "bin.txt").write_bytes(b"\x00\x00")
    code, out, _ = run(capsys, overrides, "ingest", str(corpus), "--no-progress")
    assert code == 0
    assert "Added 3" in out and "1 files could not be ingested" in out
    assert "bin.txt: binary file" in out
    code, out, _ = run(capsys, overrides, "status")
    assert "Documents:  3" in out and "Gate:       a question's nearest chunk within 0.700 (default)" in out


def test_user_errors_are_one_line_and_nonzero(capsys, overrides, cleanup_schema):
    code, out, err = run(capsys, overrides, "docs", "show", "999999")
    assert code == 1
    assert err.splitlines()[0] == "Error: No document '999999' in the library"
    assert "Traceback" not in err
    with pytest.raises(Exception) as info:  # --debug shows the real exception
        main(
            [
                "--debug",
                "--data-dir",
                overrides["database"]["data_dir"],
                "--schema",
                overrides["database"]["db_schema"],
                "docs",
                "show",
                "999999",
            ]
        )
    assert type(info.value).__name__ == "NotFoundError"


def test_config_shows_sources(capsys, overrides, monkeypatch):
    monkeypatch.setenv("OPENBOOK_INGEST__CHUNK_SIZE", "321")
    code, out, _ = run(capsys, overrides, "config", "--json")
    rows = {r["name"]: r for r in json.loads(out)["settings"]}
    assert rows["ingest.chunk_size"]["value"] == 321 and rows["ingest.chunk_size"]["source"] == "env"
    assert rows["database.db_schema"]["source"] == "cli"
    assert rows["embedding.model"]["source"] == "default"


class _TinyEmbedder:
    """A deterministic 16-dimensional embedder standing in for a second embedding model."""

    from openbook.assistant.store import EmbeddingIdentity

    identity = EmbeddingIdentity("test:tiny-16", 16)

    def embed_batch(self, texts):
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, t in enumerate(texts):
            for word in t.lower().split():
                out[i, hash(word) % 16] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_model_change_is_an_error_until_reembed(capsys, overrides, corpus, monkeypatch, cleanup_schema):
    import openbook.assistant.embeddings as emb

    run(capsys, overrides, "ingest", str(corpus), "--json")
    monkeypatch.setattr(emb, "make_embedder", lambda *a, **k: _TinyEmbedder())
    code, _, err = run(capsys, overrides, "ingest", str(corpus))
    assert code == 1
    assert "embedded with sentence-transformers" in err and "dimension 384" in err
    assert "openbook reembed" in err
    code, out, _ = run(capsys, overrides, "reembed", "--json")
    assert code == 0 and json.loads(out) == {
        "chunks": 4,
        "from": "sentence-transformers:sentence-transformers/all-MiniLM-L6-v2",
        "to": "test:tiny-16",
        "dimension": 16,
    }
    code, out, _ = run(capsys, overrides, "status", "--json")
    status = json.loads(out)
    assert status["embedding_dimension"] == 16 and status["chunks"] == 4
    code, out, _ = run(capsys, overrides, "ingest", str(corpus), "--json")
    assert code == 0 and json.loads(out)["unchanged"] == 3


@pytest.mark.slow
def test_quickstart_ingests_samples_once_and_answers(capsys, overrides, cleanup_schema):
    code, out, _ = run(capsys, overrides, "quickstart", "--json", "-q", "Who discovered Neptune?")
    first = json.loads(out)
    assert code == 0 and first["ingested_samples"]["failed"] == []
    assert first["documents"] >= 30
    assert Path(first["results"][0]["source"]).name == "neptune.md"
    code, out, _ = run(capsys, overrides, "quickstart", "--json")
    assert json.loads(out)["ingested_samples"] is None  # not on the second run


def test_ask_step_switches_turn_on_off_or_leave_as_configured():
    import click
    from click.testing import CliRunner

    from openbook.assistant.cli.ask_cmd import step_switches

    @click.command()
    @step_switches
    def probe(**switched):
        click.echo(json.dumps(switched, sort_keys=True))

    out = CliRunner().invoke(probe, ["--rewrite", "--no-split"]).output
    got = json.loads(out)
    assert got["rewrite"] is True and got["split"] is False and got["filter"] is None and got["hyde"] is None
    assert "--hyde / --no-hyde" in CliRunner().invoke(probe, ["--help"]).output


def test_ctrl_c_during_ask_stops_the_turn_through_its_cancel_token():
    """In `openbook ask`, Ctrl-C sets the turn's cancel token (so llama.cpp aborts too) instead
    of raising KeyboardInterrupt wherever the interpreter happens to be; the old handler returns."""
    import os
    import signal

    from openbook.assistant.cli.ask_cmd import stopped_by_ctrl_c

    before = signal.getsignal(signal.SIGINT)
    with stopped_by_ctrl_c() as token:
        assert not token.cancelled
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            if token.cancelled:
                break
        assert token.cancelled
    assert signal.getsignal(signal.SIGINT) is before


def test_ask_prints_the_checked_answer_when_the_checks_changed_what_streamed():
    from openbook.assistant.cli.ask_cmd import changed_after_streaming

    # the reader cited [1]; the words are in passage 2, so the checked answer cites [2]
    assert changed_after_streaming("Enceladus [1]", "Enceladus [2]") == "Checked: Enceladus [2]"
    assert changed_after_streaming("Titan [1]", "Titan [1]") is None
    # a compound answer streams each piece before the whole: the whole ends the stream
    pieces = "When was A founded? → 1908 [1]\n\nWhen was B founded? → 1911 [2]\n\nA [1][2]."
    assert changed_after_streaming(pieces, "A [1][2].") is None
    assert changed_after_streaming("", "") is None


def test_explanatory_questions_are_refused_where_no_teacher_writes_them(capsys, overrides, tmp_path):
    qa = tmp_path / "set.json"
    qa.write_text('{"data": []}')
    for extra in (["--qa", str(qa), "--target", "mixed"], ["--target", "answer"]):
        code, _, err = run(capsys, overrides, "finetune", "data", "--out", str(tmp_path / "o"),
                           "--explanatory", "0.5", *extra)  # fmt: skip
        assert code == 2 and "--explanatory is for a teacher's questions" in err
