"""The cross-encoder reranker: the shipped adapter loads offline and orders passages, the
retriever reranks with it and the trace and `openbook search --json` show its scores, the
question's own top hit keeps its anchor unless the reranker is sure, and a tiny training run
end to end gives an adapter that loads."""

from __future__ import annotations

import itertools
import json

import pytest

from openbook.assistant.finetune import reranker as rr
from openbook.assistant.models.cross_encoder import (
    CrossEncoder,
    RerankerError,
    blended,
    focus,
    installed_reranker,
    native_bf16,
    resolve_reranker,
    resolved,
    shipped_reranker,
)
from openbook.assistant.retrieval.fusion import keep_anchor

from .test_cli import run
from .test_finetune import squad  # noqa: F401  (fixture)

shipped = pytest.mark.skipif(not shipped_reranker().exists(), reason="no shipped reranker")


def test_focus_keeps_a_short_passage_and_cuts_a_long_one_to_the_question_s_sentences():
    assert focus("anything", "Short   passage here.", 50) == "Short passage here."
    filler = " ".join(f"Sentence {i} talks about weather and rivers." for i in range(30))
    text = f"{filler} Venus is hot because carbon dioxide traps heat. {filler}"
    got = focus("Why is Venus so hot?", text, 20)
    assert "Venus is hot because carbon dioxide traps heat." in got and len(got.split()) <= 20


def _hit(chunk_id: int, score: float):
    from openbook.agents.kit.evidence import Hit

    return Hit(chunk_id=chunk_id, document_id=chunk_id, source=f"d{chunk_id}", title="", ordinal=0, text="",
               metadata={}, rank=chunk_id, fused_score=0.0, rerank_score=score)  # fmt: skip


def test_the_question_s_own_top_hit_drops_below_its_anchor_only_under_hits_scored_a_margin_higher():
    order = [_hit(1, 5.0), _hit(2, 4.5), _hit(3, 3.0), _hit(4, 2.0)]
    ids = lambda hits: [h.chunk_id for h in hits]  # noqa: E731

    def anchor(hits, own, rank, margin):
        return keep_anchor(hits, own, rank, margin, lambda h: h.rerank_score, lambda h: h.chunk_id)

    # hit 3 is the question's own: only hit 1 is >= 2 above it, so it rises to rank 2
    assert ids(anchor(order, 3, 1, 2.0)) == [1, 3, 2, 4]
    # no hit 2 above it: back to rank 1; a margin of 0 trusts the reranker alone
    assert ids(anchor(order, 3, 1, 10.0)) == [3, 1, 2, 4]
    assert ids(anchor(order, 3, 1, 0.0)) == [1, 2, 3, 4]
    assert ids(anchor(order, 2, 2, 10.0)) == [1, 2, 3, 4]  # already within the anchor rank
    assert ids(anchor(order, 9, 1, 10.0)) == [1, 2, 3, 4]  # not among them


def test_reranking_off_or_an_absent_adapter_is_said_not_hidden(tmp_path):
    assert resolve_reranker(False, None) == (None, "off (retrieval.rerank = false)")
    model, why = resolve_reranker(True, tmp_path / "none.safetensors")
    assert model is None and "no reranker at" in why


@shipped
def test_the_shipped_reranker_loads_offline_and_orders_a_relevant_passage_first(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = CrossEncoder(shipped_reranker())
    relevant = "Venus is the hottest planet because its thick carbon dioxide atmosphere traps heat."
    other = "The Amazon river carries more water than any other river and drains much of Brazil."
    scores = model.score("Why is Venus so hot?", [other, relevant])
    assert scores[1] > scores[0], scores
    card = model.card
    assert card["files"][shipped_reranker().name] and card["base"]["sha256"]


@shipped
def test_each_precision_scores_close_to_fp32_auto_is_int8_and_bf16_says_when_it_is_emulated():
    question = "Why is Venus so hot?"
    passages = [
        "The Amazon river carries more water than any other river and drains much of Brazil.",
        "Venus is the hottest planet because its thick carbon dioxide atmosphere traps heat.",
        "Venus is the second planet from the Sun and is nearly the same size as Earth.",
    ]
    exact = CrossEncoder(shipped_reranker(), precision="fp32").score(question, passages)
    for precision, within in (("bf16", 0.5), ("int8", 4.0)):  # measured: 0.16 and 2.95 at most
        model = CrossEncoder(shipped_reranker(), precision=precision)
        scores = model.score(question, passages)
        # fp32 only where torch has no int8 kernels; bf16 says when this CPU only emulates it
        expected = {"int8": ("int8", "fp32"), "bf16": ("bf16" if native_bf16() else "bf16 (emulated)",)}
        assert model.precision in expected[precision]
        drift = max(abs(a - b) for a, b in zip(scores, exact, strict=True))
        assert drift <= within, (precision, scores, exact)
        assert scores.index(max(scores)) == exact.index(max(exact)) == 1
    assert resolved("auto") == "int8"  # bf16 measured and not adopted (docs/benchmarks.md)
    with pytest.raises(RerankerError, match="rerank_precision"):
        resolved("fp8")


@shipped
def test_openbook_models_lists_the_reranker_with_its_lineage(capsys, overrides):
    code, out, err = run(capsys, overrides, "models", "--json")
    assert code == 0, err
    reranker = next(f for f in json.loads(out)["fine_tuned"] if f["name"] == "openbook-reranker")
    assert "reranks its top 30 hits" in reranker["served_by"] and "LoRA r16" in reranker["lineage"]
    assert reranker["served_by"].endswith(f"in {resolved('auto')}")  # the precision it computes in
    ndcg = json.loads(shipped_reranker().with_suffix(".json").read_text())["training"]["val_ndcg10"]
    figures = f"held-out nDCG@10 {ndcg['fused']:.3f} fused → {ndcg['exported']['int8']:.3f} reranked"
    assert figures in reranker["lineage"], reranker["lineage"]


@shipped
def test_warming_up_loads_the_reranker_so_the_first_question_does_not_wait(
    monkeypatch, store, embedder, settings
):
    from openbook.assistant.models import cross_encoder
    from openbook.assistant.retrieval.retriever import Retriever

    monkeypatch.setattr(cross_encoder, "_LOADED", {})  # a fresh process: nothing loaded yet
    retriever = Retriever(store, embedder, settings.retrieval.model_copy(update={"rerank": True}))
    assert retriever.reranker is not None and retriever.reranker._model is None
    retriever.warm(index=False)
    assert retriever.reranker._model is not None


def test_search_and_the_trace_show_the_reranker_s_scores(capsys, overrides, corpus):
    code, _out, err = run(capsys, overrides, "ingest", str(corpus))
    assert code == 0, err
    code, out, err = run(capsys, overrides, "search", "why is venus hot", "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert results[0]["source"].endswith("venus.md")
    assert all(r["rerank_score"] is not None and r["fused_rank"] >= 1 for r in results)
    # ordered as the run time orders them: the reranker's logit blended with the fused rank
    prior = CrossEncoder(shipped_reranker()).card["config"]["prior"]
    order = [blended(r["rerank_score"], r["fused_rank"], prior) for r in results]
    assert all(a >= b - 1e-3 for a, b in itertools.pairwise(order)), order  # scores are printed rounded
    code, out, err = run(capsys, overrides, "ask", "Why is Venus so hot?", "--json")
    assert code == 0, err
    trace_id = json.loads(out)["trace_id"]
    code, out, err = run(capsys, overrides, "traces", "show", str(trace_id))
    assert code == 0, err
    assert "reranked the top 30 fused hits with openbook-reranker.safetensors (shipped)" in out
    assert f"(shipped), {resolved('auto')}, blended with the fused order" in out  # its precision
    assert "rerank +" in out or "rerank -" in out


def test_a_tiny_training_run_gives_an_adapter_that_loads_and_scores(capsys, overrides, squad, tmp_path):  # noqa: F811
    out = tmp_path / "rr"
    args = ["finetune", "reranker", "--qa", str(squad), "--out", str(out), "--per-set", "40", "--held-out",
            "2", "--max-steps", "2", "--threads", "1", "--max-length", "64", "--json"]  # fmt: skip
    code, stdout, err = run(capsys, overrides, *args)
    assert code == 0, err
    report = json.loads(stdout)
    figures = report["training"]["val_ndcg10"]
    assert report["training"]["steps"] == 2 and 0 <= figures["fused"] <= 1
    assert set(figures["exported"]) == {
        "prior",
        "int8",
        "fp32",
        "fp32_alone",
        "int8_by_prior",
        "int8_anchored",
    }
    # the exported fp32 adapter scores as the trained peft model did: the merge is the training's
    assert figures["exported"]["fp32_alone"] == pytest.approx(figures["trained"], abs=1e-3)
    adapter = out / "openbook-reranker.safetensors"
    model = CrossEncoder(adapter, precision="fp32")
    assert model.max_length == 64  # read at run time as in training, from the card
    assert len(model.score("Which planet is red?", ["Mars is red.", "Tides follow the Moon."])) == 2
    assert "step 2/2" in err and "ETA" in err
    # what --install compares: the order the run time gives, as the card records it
    served = rr.served_ndcg(adapter, out / "data", threads=1)
    assert served == pytest.approx(figures["exported"]["int8"], abs=1e-3)
    # --resume after the last step: nothing more to train, the same adapter comes out
    code, stdout, err = run(capsys, overrides, *args[:-1], "--resume", "--json")
    assert code == 0 and "Resuming at step 2/2" in err, err


@shipped
def test_install_keeps_the_reranker_in_force_unless_it_orders_no_worse(
    capsys,
    overrides,
    squad,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    out = tmp_path / "rr"
    args = ["finetune", "reranker", "--qa", str(squad), "--out", str(out), "--per-set", "40", "--held-out",
            "2", "--max-steps", "1", "--layers", "1", "--threads", "1", "--install", "--json"]  # fmt: skip
    compared = []

    def theirs(adapter, data_dir, threads=None):  # the held-out figure of the reranker replaced
        compared.append(adapter)
        return figure

    monkeypatch.setattr(rr, "served_ndcg", theirs)
    figure = 1.01  # above anything the new one can score: refused, nothing installed
    code, _out, err = run(capsys, overrides, *args)
    assert code != 0 and "Not installed" in err and "(shipped)" in err, err
    assert compared == [shipped_reranker()] and not installed_reranker().exists()
    figure = -1.0  # below: installed, and searches use it
    code, stdout, err = run(capsys, overrides, *args, "--resume")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["installed"] == str(installed_reranker()) and installed_reranker().exists()
    assert report["replaces"] == {"reranker": str(shipped_reranker()), "val_ndcg10": -1.0}
    assert resolve_reranker(True, None)[1].endswith("(yours, from openbook finetune reranker --install)")
    # a reranker named in the settings still wins, and the command says so
    monkeypatch.setenv("OPENBOOK_RETRIEVAL__RERANKER", str(shipped_reranker()))
    code, _out, err = run(capsys, overrides, *args, "--resume")
    assert code == 0 and "retrieval.reranker = " in err and "wins over it" in err, err


def test_squad_v1_dev_is_refused_by_name(capsys, overrides, tmp_path):
    dev = tmp_path / "dev-v1.1.json"
    dev.write_text('{"data": []}')
    code, _out, err = run(
        capsys, overrides, "finetune", "reranker", "--qa", str(dev), "--out", str(tmp_path / "x")
    )
    assert code != 0 and "SQuAD v1.1 dev" in err


class _Teacher:
    """A scripted teacher: for each chunk, a question about its words and an answer copied from it."""

    name, backend = "scripted-teacher", "fake"

    def chat(self, messages, *, schema=None, tools=None, options=None, on_token=None):
        from openbook.agents.kit.llm import ChatResult

        passage = messages[-1].content.split("Passage:", 1)[1]
        words = [w for w in passage.replace("#", " ").split() if w.isalpha()]
        qa = {
            "question": f"What does the library say about {' '.join(words[3:9])}?",
            "answer": " ".join(words[:2]),
        }
        return ChatResult(text=json.dumps(qa), model=self.name, backend=self.backend)


def test_a_tiny_training_run_on_a_teacher_s_questions_about_the_library(
    capsys, overrides, tmp_path, monkeypatch
):
    from openbook.assistant.cli import tune_cmds
    from openbook.assistant.paths import sample_docs_dir

    monkeypatch.setattr(tune_cmds, "_teacher", lambda settings, name: _Teacher())
    code, _out, err = run(capsys, overrides, "ingest", str(sample_docs_dir()))
    assert code == 0, err
    out = tmp_path / "lib"
    args = ["finetune", "reranker", "--library", "--out", str(out), "--per-set", "24", "--held-out", "4",
            "--max-steps", "2", "--threads", "1", "--json"]  # fmt: skip
    code, stdout, err = run(capsys, overrides, *args)
    assert code == 0, err
    assert "teacher: {'asked': 24" in err
    stats = json.loads((out / "data" / "data.json").read_text())
    assert stats["train"]["questions"] >= 10 and stats["val"]["questions"] >= 4
    assert stats["train"]["sets"] == stats["val"]["sets"] == ["library"]
    # held out by whole documents: no document is on both sides
    rows = {part: [json.loads(x) for x in (out / "data" / f"{part}.jsonl").read_text().splitlines()]
            for part in ("train", "val")}  # fmt: skip
    assert not {r["group"] for r in rows["train"]} & {r["group"] for r in rows["val"]}
    report = json.loads(stdout)
    assert report["training"]["steps"] == 2
    scores = CrossEncoder(out / "openbook-reranker.safetensors").score(
        "Which planet is red?", ["Mars is red."]
    )
    assert len(scores) == 1
