"""`openbook tune retrieval` on a synthetic library where the right fusion is known: each document
is a made-up name followed by sentences drawn from a small shared pool, so a held-out sentence is
found by its document's name (BM25: a rare word, in every sentence) and the vector leg is led
astray by the many other documents that hold the same pooled sentence verbatim."""

import json
import random

from openbook.assistant.retrieval.fusion import RankedList
from openbook.assistant.retrieval.retriever import CALIBRATION_KEY, Retriever, stale
from openbook.assistant.settings import RetrievalSettings
from openbook.assistant.tuning import calibrate, gate, tune
from openbook.db import meta

from .test_cli import cleanup_schema, run  # noqa: F401  (fixture)

POOL = [
    "the committee approved the annual budget after a long debate",
    "heavy rain flooded the main road near the old bridge",
    "the children planted tomatoes and beans in the school garden",
    "a new bakery opened on the corner selling fresh bread",
    "the orchestra rehearsed the symphony late into the evening",
    "engineers tested the engine under very cold conditions",
]


def _library(root, n, seed):
    rng = random.Random(seed)
    root.mkdir(exist_ok=True)
    for i in range(n):
        name = "".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)).capitalize()
        body = " ".join(f"{name} says {s}." for s in rng.sample(POOL, 4))
        (root / f"doc{seed}-{i}.txt").write_text(body)
    return root


def test_masked_queries_hold_out_a_sentence_of_their_chunk():
    shared = "The held out sentence has eight words here."
    rows = [
        {
            "id": 1,
            "document_id": 1,
            "ordinal": 0,
            "text": "Alpha beta gamma delta epsilon zeta eta. " * 3 + shared,
        },
        {"id": 2, "document_id": 1, "ordinal": 1, "text": f"{shared} Short."},
    ]
    pseudo = tune.masked_queries(rows, 5)
    # Chunk 2 is too short once masked; chunk 1's last sentence is also in chunk 2 (overlap): unusable.
    assert [p.chunk_id for p in pseudo] == [1]
    assert pseudo[0].query == "Alpha beta gamma delta epsilon zeta eta."
    assert (pseudo[0].masked or "").count("Alpha beta") == 2


def test_calibration_picks_the_known_best_fusion_and_turns_use_it(
    capsys,
    overrides,
    settings,
    tmp_path,
    embedder,
    monkeypatch,
    cleanup_schema,  # noqa: F811
):
    # Start from a vector-heavy fusion, wrong for this library by construction.
    monkeypatch.setenv("OPENBOOK_RETRIEVAL__FUSION", "convex")
    monkeypatch.setenv("OPENBOOK_RETRIEVAL__ALPHA", "0.2")
    lib = _library(tmp_path / "lib", 80, seed=0)
    assert run(capsys, overrides, "ingest", str(lib))[0] == 0

    code, out, err = run(
        capsys, overrides, "tune", "retrieval", "--kind", "masked", "--queries", "80", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    f = result["figures"]
    assert f["bm25_ndcg"] == 1.0 and f["vector_ndcg"] < 0.2  # the known situation
    assert result["default"] == "convex alpha=0.2" and f["default_ndcg"] < 0.5
    assert f["chosen_ndcg"] == 1.0 and f["gain_low"] > 0.3  # the known best: as good as BM25 alone
    chosen = result["fusion"]
    assert (chosen["method"] == "convex" and chosen["alpha"] >= 0.5) or (
        chosen["method"] == "rrf" and chosen["bm25_weight"] > chosen["vector_weight"]
    )
    assert result["stored"] and result["before"]["source"] == "default"
    g = result["gate"]
    assert g["queries"] == result["queries"] and g["quantile"] == gate.QUANTILE
    assert gate.FLOOR <= g["median"] <= g["q90"] <= g["max_distance"] <= gate.CEILING
    assert "Evidence gate" not in out  # --json: the figures only

    from openbook.assistant.store import Store

    with Store(settings, embedding=embedder.identity) as store:
        retriever = Retriever(store, embedder, RetrievalSettings(), cache_dir=tmp_path / "cache")
        fusion, source = retriever.fusion()
        assert source == "calibrated" and fusion.label() == result["label"]
        assert retriever.gate() == (g["max_distance"], "calibrated")
        # The stored choice really is the best on its own pseudo-queries.
        cases = tune.cases_for(retriever, tune.masked_queries(tune_rows(store), 80), 50)
        assert calibrate.mean(calibrate.per_case(fusion, cases, str)) == 1.0
        # Settings can switch it off.
        off = Retriever(store, embedder, RetrievalSettings(calibrated=False), cache_dir=tmp_path / "c2")
        assert off.fusion()[1] == "default" and off.gate() == (0.7, "default")

    # The corpus triples: ingest calibrates again, the way it was done (masked: no model needed).
    code, _out, err = run(capsys, overrides, "ingest", str(_library(tmp_path / "more", 160, seed=1)))
    assert code == 0 and "80 chunks when fusion was calibrated): fusion calibrated again" in err
    with Store(settings, embedding=embedder.identity) as store:
        again = meta.get(store, CALIBRATION_KEY)
        assert again["chunks"] == 240 and again["kind"] == "masked"
        retriever = Retriever(store, embedder, RetrievalSettings(), cache_dir=tmp_path / "cache")
        assert retriever.fusion()[1] == "calibrated"
        # A stale calibration (here: one made at a third of today's size) no longer applies, and says why.
        meta.put(store, CALIBRATION_KEY, {**again, "chunks": 80})
        fusion, source = retriever.fusion()
        assert source.startswith("default (calibration stale") and "80 chunks then, 240 now" in source
        assert fusion == RetrievalSettings().default_fusion() and stale(meta.get(store, CALIBRATION_KEY), 240)

    code, out, _ = run(capsys, overrides, "tune", "retrieval", "--reset")
    assert code == 0 and "forgotten" in out
    with Store(settings, embedding=embedder.identity) as store:
        assert meta.get(store, CALIBRATION_KEY) is None


def tune_rows(store):
    from openbook.db import chunks as chunk_rows

    return chunk_rows.all_for_tuning(store)


def test_too_small_a_library_is_a_clear_error(capsys, overrides, tmp_path, cleanup_schema):  # noqa: F811
    lib = _library(tmp_path / "tiny", 5, seed=3)
    assert run(capsys, overrides, "ingest", str(lib))[0] == 0
    code, _out, err = run(capsys, overrides, "tune", "retrieval")
    assert code != 0 and "calibration needs at least 20" in err and "safe default" in err


def test_generated_pseudo_queries_come_from_the_teacher_and_answers_must_be_in_the_chunk(
    store, embedder, tmp_path
):
    from openbook.assistant.ingest.pipeline import ingest
    from openbook.assistant.settings import IngestSettings

    from .fakes import FakeChat

    ingest(store, embedder, [_library(tmp_path / "lib", 30, seed=5)], IngestSettings())
    retriever = Retriever(store, embedder, RetrievalSettings(), cache_dir=tmp_path / "cache")
    teacher = FakeChat("teacher")
    # 12 chunks asked: every chunk holds "says"; one answer is not in its chunk, one question repeats.
    replies = [{"question": f"Who says something about topic {i}?", "answer": "says"} for i in range(10)]
    replies += [{"question": "Who says something about topic 0?", "answer": "says"}]
    replies += [{"question": "What is nowhere in the passage?", "answer": "zeppelin"}]
    teacher.enqueue(*replies)
    result = tune.run(retriever, "generated", 12, teacher=teacher)
    assert result["kind"] == "generated" and result["queries"] == 10
    assert len(teacher.calls) == 12 and "Passage:" in teacher.calls[0]["messages"][0].content
    assert 0.0 <= result["figures"]["chosen_ndcg"] <= 1.0
    # The gate is measured on masked pseudo-queries all the same (no model: no more teacher calls).
    assert result["gate"]["queries"] > 10 and len(teacher.calls) == 12


def test_calibration_on_the_users_own_questions(capsys, overrides, tmp_path, cleanup_schema):  # noqa: F811
    lib = _library(tmp_path / "lib", 30, seed=6)
    assert run(capsys, overrides, "ingest", str(lib))[0] == 0
    lines = []
    for doc in sorted(lib.glob("*.txt"))[:12]:
        name = doc.read_text().split()[0]
        lines.append(json.dumps({"question": f"What does {name} say?", "gold_doc": doc.name}))
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text("\n".join(lines) + "\n")
    code, out, err = run(
        capsys, overrides, "tune", "retrieval", "--kind", "questions", "--questions", str(qfile), "--dry-run"
    )
    assert code == 0, err
    assert "12 of your questions" in out and "nDCG@10 of the right document" in out and "Would use:" in out
    assert "Evidence gate: would turn a question away when its nearest chunk is farther than" in out
    # Stored with its questions, it is calibrated again on them once the corpus has doubled.
    assert run(capsys, overrides, "tune", "retrieval", "--questions", str(qfile))[0] == 0
    code, _out, err = run(capsys, overrides, "ingest", str(_library(tmp_path / "more", 40, seed=7)))
    assert code == 0 and "30 chunks when fusion was calibrated): fusion calibrated again" in err
    # A question about a document that is not stored is a clear error, and nothing is stored.
    qfile.write_text(qfile.read_text() + json.dumps({"question": "Who?", "gold_doc": "missing.txt"}) + "\n")
    code, _out, err = run(
        capsys, overrides, "tune", "retrieval", "--kind", "questions", "--questions", str(qfile)
    )
    assert code != 0 and "missing.txt is not stored" in err


def _case(distance, leg="vector", query_index=0):
    return calibrate.Case([RankedList(leg, query_index, [(1, distance), (2, distance + 0.1)])], {"1": 1})


def test_the_gate_lets_its_quantile_of_pseudo_queries_through():
    cases = [_case(d / 100) for d in range(1, 101)]  # nearest distances 0.01 .. 1.00
    g = gate.calibrate(cases, 0.98)
    assert g == {"max_distance": 0.98, "quantile": 0.98, "queries": 100, "median": 0.505, "q90": 0.901}
    passed = sum(1 for c in cases if (gate.nearest(c) or 9) <= g["max_distance"])
    assert passed == 98
    # Only the first query's vector list counts; BM25-only cases cannot say how far anything is.
    mixed = calibrate.Case([_case(0.3, "bm25").lists[0], _case(0.6, query_index=1).lists[0]], {})
    assert gate.nearest(mixed) is None
    assert gate.calibrate([_case(0.5, "bm25")] * 50) is None and gate.calibrate(cases[:9]) is None
    # A degenerate library (every pseudo-query on top of a chunk) still gets a usable gate.
    assert gate.calibrate([_case(0.0)] * 20)["max_distance"] == gate.FLOOR
