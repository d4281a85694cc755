"""Prompt templates, one ``<step>.md`` file per agent step, rendered strictly.

Templates use Jinja2 syntax. Rendering fails on a missing variable *and* on an unexpected one,
so a prompt and its step's pydantic input model cannot drift apart silently.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any


class PromptError(Exception):
    pass


@cache
def source(name: str) -> str:
    try:
        return resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"no prompt file prompts/{name}.md") from None


def variables(text: str) -> set[str]:
    """The variables a template uses."""
    from jinja2 import Environment, meta

    return set(meta.find_undeclared_variables(Environment().parse(text)))


def render_text(text: str, values: dict[str, Any]) -> str:
    from jinja2 import Environment, StrictUndefined, UndefinedError

    needed = variables(text)
    extra = set(values) - needed
    if extra:
        raise PromptError(f"unexpected prompt variables: {sorted(extra)}")
    try:
        return (
            Environment(undefined=StrictUndefined, keep_trailing_newline=True)
            .from_string(text)
            .render(**values)
        )
    except UndefinedError as exc:
        raise PromptError(f"missing prompt variable: {exc.message}") from exc


def render(name: str, values: dict[str, Any]) -> str:
    return render_text(source(name), values)


def text(name: str) -> str:
    """A prompt file without variables (the system prompt, fixed replies)."""
    return render(name, {}).strip()
