"""Every script kept in bench/ runs with its documented command and its smallest arguments.

The ones that read only committed figures run in the fast suite; the ones that load a model or
start a database are ``slow``. The two fetch scripts download from the package index, which
tests may not reach: only their command line is checked here (``--help``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
FIGURES = BENCH / "figures" / "qa"


def run(*args: str, timeout: float = 600, env: dict | None = None) -> str:
    cmd = [sys.executable, *args] if args[0].endswith(".py") else list(args)
    done = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def squad(path: Path, articles: int = 30, offset: int = 0) -> Path:
    """A tiny SQuAD-format set: one paragraph and one question per article."""
    data = []
    for i in range(offset, offset + articles):
        context = f"Planet Zeta-{i} has {i % 7 + 1} moons. Its rings are made of ice number {i}."
        answer = f"{i % 7 + 1}"
        data.append(
            {
                "title": f"Zeta-{i}",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": f"q{i}",
                                "question": f"How many moons does Planet Zeta-{i} have?",
                                "answers": [{"text": answer, "answer_start": context.index(answer)}],
                            }
                        ],
                    }
                ],
            }
        )
    path.write_text(json.dumps({"version": "1.1", "data": data}))
    return path


def test_every_kept_script_is_smoke_tested_here():
    text = Path(__file__).read_text()
    scripts = [
        p for p in BENCH.iterdir() if p.suffix == ".sh" or (p.suffix == ".py" and "__main__" in p.read_text())
    ]
    kept = sorted(p.name for p in scripts)
    assert [k for k in kept if f"bench/{k}" not in text and f'"{k}"' not in text] == []


# -- from committed figures ----------------------------------------------------------------------
def test_qa_table_prints_the_answer_quality_table():
    assert "| set |" in run("bench/qa_table.py")


def test_reader_repro_prints_its_table():
    assert "answer" in run("bench/reader_repro.py")


def test_the_reader_card_is_what_its_figures_give():
    assert "up to date" in run("bench/reader_card.py", "--check")


def test_qa_paired_compares_two_committed_runs():
    a = FIGURES / "agent-reader" / "new_wiki-defaults" / "answers.jsonl"
    b = FIGURES / "agent-reader-repro" / "new_wiki-defaults" / "answers.jsonl"
    out = json.loads(run("bench/qa_paired.py", str(a), str(b), "--json"))["ft-agent"]
    assert out["questions"] == 100 and out["b_better"] + out["b_worse"] + out["same"] == 100
    assert out["f1_b_minus_a"] == round(out["f1_b"] - out["f1_a"], 4)


def test_merge_qa_summary_folds_a_run_into_a_summary(tmp_path):
    into = tmp_path / "nyt.summary.json"
    into.write_text((FIGURES / "nyt.summary.json").read_text())
    run("bench/merge_qa_summary.py", str(FIGURES / "nyt.summary.json"), str(into))
    assert (
        json.loads(into.read_text())["configs"]
        == json.loads((FIGURES / "nyt.summary.json").read_text())["configs"]
    )
    assert (tmp_path / "nyt.png").exists()


def test_the_shell_scripts_parse_and_the_fetchers_take_their_documented_options():
    for script in ("bench/eval_qa.sh", "bench/reader_seeds_gpu.sh"):
        run("bash", "-n", script)
    assert "--dest" in run("bench/fetch_squad_shifts.py", "--help")
    assert "--nq-passages" in run("bench/fetch_dev_corpora.py", "--help")


def test_coqa_becomes_a_qa_set_of_its_stand_alone_questions(tmp_path):
    story = "Tom has a red dog named Rex. Rex likes to run. Tom walks Rex every day at noon."
    qa = [  # (question, free-form answer, rationale)
        ("What is the name of Tom's dog?", "Rex.", "a red dog named Rex"),
        ("Does Tom walk the dog every day?", "Yes", "Tom walks Rex every day"),
        ("What does he like?", "to run", "Rex likes to run"),  # "he" points back: left out
        ("When does Tom walk the dog?", "around lunchtime", "at noon"),  # not in the story: left out
    ]
    questions = [{"input_text": q, "turn_id": t} for t, (q, _a, _r) in enumerate(qa, 1)]
    answers = [{"input_text": a, "span_text": r, "turn_id": t} for t, (_q, a, r) in enumerate(qa, 1)]
    # enough stories that the retrieval corpus's split leaves some for training
    stories = [{"id": f"s{i}", "story": story, "questions": questions, "answers": answers} for i in range(40)]
    (tmp_path / "coqa.json").write_text(json.dumps({"data": stories}))
    run("bench/fetch_coqa_qa.py", "--source", str(tmp_path / "coqa.json"), "--dest", str(tmp_path / "out"))
    data = json.loads((tmp_path / "out" / "coqa_qa.json").read_text())["data"]
    assert 0 < len(data) < 40  # the retrieval corpus's test stories are not written
    for article in data:
        (para,) = article["paragraphs"]
        got = [(q["question"], q["answers"][0]["text"], q["answers"][0]["rationale"]) for q in para["qas"]]
        assert got == [
            ("What is the name of Tom's dog?", "Rex", "a red dog named Rex"),
            ("Does Tom walk the dog every day?", "yes", "Tom walks Rex every day"),
        ]


# -- with a database or a model --------------------------------------------------------------------
@pytest.mark.slow
def test_ingest_and_retrieval_benchmarks_run(tmp_path):
    run("bench/ingest.py", "--chunks", "40", "--json", str(tmp_path / "i.json"))
    assert json.loads((tmp_path / "i.json").read_text())
    run("bench/retrieval.py", "--sizes", "300", "--queries", "5", "--json", str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text())


@pytest.mark.slow
def test_mcp_and_watch_benchmarks_run(tmp_path):
    run(
        "bench/mcp_latency.py",
        "--chunks",
        "30",
        "--queries",
        "3",
        "--cli-runs",
        "1",
        "--json",
        str(tmp_path / "m.json"),
    )
    assert json.loads((tmp_path / "m.json").read_text())["mcp_search_warm"]["p50_ms"] > 0
    run("bench/watch.py", "--files", "20", "--edits", "1", "--idle", "1", "--json", str(tmp_path / "w.json"))
    assert json.loads((tmp_path / "w.json").read_text())["edit_searchable_s"]["max"] < 60


@pytest.mark.slow
def test_runtime_and_structured_output_benchmarks_run():
    assert run("bench/runtime.py", "--runs", "1", "--max-tokens", "8")
    assert run("bench/structured.py", "--n", "2")


@pytest.mark.slow
def test_tune_fusion_scores_the_grid_on_a_dataset(tmp_path):
    data = squad(tmp_path / "zeta.json")
    run(
        "bench/tune_fusion.py",
        str(data),
        "--limit",
        "10",
        "--cache",
        str(tmp_path / "cache"),
        "--json",
        str(tmp_path / "f.json"),
    )
    assert json.loads((tmp_path / "f.json").read_text())


@pytest.mark.slow
def test_pipeline_and_cancel_benchmarks_run(tmp_path):
    run("bench/pipeline.py", "--limit", "2", "--json", str(tmp_path / "p.json"))
    assert json.loads((tmp_path / "p.json").read_text())["questions"] == 2
    run(
        "bench/cancel.py",
        "--questions",
        "1",
        "--delays",
        "0.05",
        "--long-prompt",
        "30",
        "--json",
        str(tmp_path / "c.json"),
    )
    assert json.loads((tmp_path / "c.json").read_text())["long_prompt"]["stop_to_return"]["n"] >= 1


@pytest.mark.slow
def test_finetune_benchmark_trains_a_few_steps(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        {
            "messages": [{"role": "system", "content": "Answer."}, {"role": "user", "content": f"Say {i}."}],
            "target": f"{i} [1]",
            "id": str(i),
            "group": str(i),
            "format": "passages",
            "oracle": True,
            "answerable": True,
        }
        for i in range(4)
    ]
    (data / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run(
        "bench/finetune.py",
        "--data",
        str(data),
        "--examples",
        "4",
        "--batch",
        "2",
        "--train-only",
        "--json",
        str(tmp_path / "ft.json"),
    )
    assert json.loads((tmp_path / "ft.json").read_text())["steps"] >= 1


@pytest.mark.slow
def test_eval_qa_script_runs_on_a_tiny_set(tmp_path):
    sets = tmp_path / "squad_shifts"
    sets.mkdir()
    squad(sets / "new_wiki_v1.0.json")
    squad(sets / "nyt_v1.0.json", offset=100)
    env = {"SQUAD_SHIFTS": str(sets), "SETS": "new_wiki", "UNANSWERABLE": "1"}
    run("bash", "bench/eval_qa.sh", "rag", str(tmp_path / "out"), env=env)
    summary = json.loads((tmp_path / "out" / "new_wiki" / "summary.json").read_text())
    assert summary["configs"]["rag"]["questions"] >= 1


def test_the_multihop_dev_set_is_built_from_held_out_date_questions(tmp_path):
    """bench/multihop_data.py on two tiny sets in SQuAD-Shifts' format: only test-split articles,
    pairs of the same verb from different articles, both paragraphs gold, the hops beside it."""
    data = tmp_path / "squad_shifts"
    data.mkdir()
    for name in ("new_wiki", "nyt"):
        articles = []
        for i in range(60):
            context = f"The Hall {name} {i} was founded in {1800 + i}. It stands by the river."
            year = str(1800 + i)
            answers = [{"text": year, "answer_start": context.index(year)}]
            qa = {
                "id": f"{name}{i}",
                "question": f"When was the Hall {name} {i} founded?",
                "answers": answers,
            }
            articles.append(
                {"title": f"{name} article {i}", "paragraphs": [{"context": context, "qas": [qa]}]}
            )
        (data / f"{name}_v1.0.json").write_text(json.dumps({"version": "1.0", "data": articles}))
    out = tmp_path / "mh"
    summary = json.loads(run("bench/multihop_data.py", "--out", str(out), "--n", "6", "--data", str(data)))
    assert summary["questions"] == 6 and summary["yes_no"] == 3
    items = [json.loads(x) for x in (out / "questions.jsonl").read_text().splitlines()]
    for item in items:
        assert len(item["gold_docs"]) == 2 and all((out / "docs" / d).exists() for d in item["gold_docs"])
        assert item["answers"][0] in ("yes", "no") or item["answers"][0] in item["question"]
    assert (out.with_name("mh-hops") / "questions.jsonl").exists()


@pytest.mark.slow
def test_rerank_latency_benchmark_runs(tmp_path):
    from openbook.assistant.models.cross_encoder import shipped_reranker

    if not shipped_reranker().exists():
        pytest.skip("no shipped reranker")
    data = squad(tmp_path / "s.json", articles=12)
    args = [
        "--dataset",
        str(data),
        "--questions",
        "3",
        "--candidates",
        "5",
        "--json",
        str(tmp_path / "l.json"),
    ]
    run("bench/rerank_latency.py", *args)
    assert json.loads((tmp_path / "l.json").read_text())["p50_ms"] > 0


def test_decline_curve_replays_the_committed_run():
    """The threshold curve from the committed run at decline_below = 1: at 0 every decline the
    reader began stands, at 1 none of those does; the chosen 0.4 lies between."""
    answers = sorted((FIGURES / "round3" / "doubt").glob("*.answers.jsonl"))
    out = json.loads(run("bench/decline_curve.py", *map(str, answers), "--json"))
    by = {row["threshold"]: row for row in out["curve"]}
    assert out["questions"] == 300
    assert by[0.0]["declines_answerable"] > by[0.4]["declines_answerable"] >= by[1.0]["declines_answerable"]
    assert by[0.0]["f1"] <= by[0.4]["f1"] <= by[1.0]["f1"]
    assert by[0.4]["declines_unanswerable"] >= 0.75
