"""Retrieval evaluation: metrics, dataset loaders, and isolation from the user's library."""

import json
import math

import pytest

from openbook.assistant import library
from openbook.assistant.evaluation.datasets import DatasetError, load
from openbook.assistant.evaluation.metrics import all_metrics, mrr_at, ndcg_at, recall_at
from openbook.assistant.evaluation.retrieval_eval import as_table, evaluate
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.settings import IngestSettings


def test_metrics_by_hand():
    ranked = ["a", "b", "c", "d"]
    rel = {"b": 1, "d": 2}
    assert recall_at(ranked, rel, 2) == 0.5
    assert mrr_at(ranked, rel) == 0.5
    dcg = 1 / math.log2(3) + 3 / math.log2(5)
    idcg = 3 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, rel) == pytest.approx(dcg / idcg)
    m = all_metrics(ranked, rel, 10)
    assert (m["hit@1"], m["hit@5"], m["recall@10"]) == (0.0, 1.0, 1.0)


def _beir(root):
    root.mkdir()
    docs = {
        "d1": ("Venus", "Venus has a runaway greenhouse effect and is the hottest planet."),
        "d2": ("Mars", "Mars has two small moons called Phobos and Deimos."),
        "d3": ("Neptune", "Neptune was found by Galle after Le Verrier predicted its position."),
        "d4": ("Tides", "Ocean tides are raised mostly by the gravity of the Moon."),
    }
    (root / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": k, "title": t, "text": x}) for k, (t, x) in docs.items())
    )
    queries = {
        "q1": "Which planet is the hottest?",
        "q2": "What are the moons of Mars?",
        "q3": "Who found Neptune?",
        "q4": "What causes tides?",
    }
    (root / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": k, "text": v}) for k, v in queries.items())
    )
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\nq4\td4\t1\n"
    )
    return root


def test_beir_eval_is_isolated_from_the_library(store, embedder, settings, corpus, tmp_path):
    ingest(store, embedder, [corpus], IngestSettings())
    before = library.stats(store)
    ds = load(_beir(tmp_path / "mini"))
    assert len(ds.docs) == 4 and len(ds.queries) == 4
    result = evaluate(ds, settings, embedder)
    assert result["schema"].startswith("eval_") and result["schema"] != store.schema
    for mode in ("bm25", "vector", "hybrid", "hybrid+rerank"):  # the shipped reranker is in force
        assert result["metrics"][mode]["hit@1"] == 1.0, mode  # four easy, distinct questions
        assert result["metrics"][mode]["ndcg@10"] == 1.0
    assert result["settings"]["reranker"].startswith("openbook-reranker.safetensors (shipped")
    assert library.stats(store) == before  # the user's library is untouched
    again = evaluate(ds, settings, embedder, modes=("hybrid",), limit=2)
    assert again["queries"] == 2 and set(again["metrics"]) == {"hybrid", "hybrid+rerank"}
    off = settings.model_copy(deep=True)
    off.retrieval.rerank = False
    assert set(evaluate(ds, off, embedder, modes=("hybrid",), limit=2)["metrics"]) == {"hybrid"}


def test_rewrites_are_measured_reranked_with_the_anchor_as_a_turn_searches(settings, embedder, tmp_path):
    from tests.fakes import FakeChat

    ds = load(_beir(tmp_path / "mini"))
    # every rewrite points at another document than the question asks about
    misleading = ["moons of Mars Phobos Deimos", "Ocean tides Moon gravity", "hottest planet Venus", "Galle"]
    rewriter = FakeChat("scripted-rewriter").enqueue(
        *({"keywords": k, "hypothetical_answer": k} for k in misleading)
    )
    result = evaluate(ds, settings, embedder, modes=("hybrid",), rewriter=rewriter)
    assert {"rewrites", "anchored", "hybrid+rerank", "anchored+rerank"} <= set(result["metrics"])
    assert result["settings"]["rerank_margin"] == settings.retrieval.rerank_margin
    # the question's own top hit stays first: the reranker scores the question, not its rewrites
    assert result["metrics"]["anchored+rerank"]["hit@1"] == 1.0
    assert result["metrics"]["rewrites"]["hit@1"] < 1.0  # unanchored, the rewrites do mislead
    assert "outscored by" in as_table(result)


def test_squad_format_and_bad_datasets(tmp_path):
    squad = {
        "data": [
            {
                "title": "Mars",
                "paragraphs": [
                    {
                        "context": "Mars has two moons.",
                        "qas": [{"id": "x1", "question": "How many moons?", "answers": [{"text": "two"}]}],
                    },
                    {
                        "context": "Mars is red.",
                        "qas": [{"id": "x2", "question": "What colour?", "answers": [{"text": "red"}]}],
                    },
                ],
            }
        ]
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(squad))
    ds = load(path)
    assert ds.docs == {"0-0": ("Mars", "Mars has two moons."), "0-1": ("Mars", "Mars is red.")}
    assert ds.qrels == {"x1": {"0-0": 1}, "x2": {"0-1": 1}}
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(DatasetError, match="SQuAD"):
        load(tmp_path / "bad.json")
    (tmp_path / "folder").mkdir()
    with pytest.raises(DatasetError, match="corpus.jsonl"):
        load(tmp_path / "folder")
