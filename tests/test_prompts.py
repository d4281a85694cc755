import pytest

from openbook.prompts import PromptError, render_text, variables


def test_strict_rendering():
    text = "Question: {{ question }}\n{% for c in chunks %}[{{ loop.index }}] {{ c }}\n{% endfor %}"
    assert variables(text) == {"question", "chunks"}
    assert render_text(text, {"question": "Why?", "chunks": ["a", "b"]}) == ("Question: Why?\n[1] a\n[2] b\n")
    with pytest.raises(PromptError, match="missing"):
        render_text(text, {"question": "Why?"})
    with pytest.raises(PromptError, match="unexpected"):
        render_text(text, {"question": "Why?", "chunks": [], "extra": 1})
