"""Agent steps, one small module each (``planner``, ``splitter``, ``rewriter``, ``retrieve``,
``filter``, ``distiller``, ``answerer``, and the tools ``search`` and ``documents``): a pydantic
input model, a pydantic output model, declared settings, one ``run`` method, and a prompt file of
the same name in ``prompts/``. ``pipeline.py`` declares the order; ``kit/`` is the interface they
share (step, tracing, model and evidence types).

Agents import nothing from ``openbook.assistant``: no database driver, no model client."""
