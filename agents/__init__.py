"""Agent steps, one small module each (``planner``, ``splitter``, ``rewriter``, ``filter``,
``distiller``, ``answerer``): a pydantic input model, a pydantic output model, one function, and a
prompt file of the same name in ``prompts/``. Agents never import a database driver or a model
client; they receive the store and the chat model through narrow interfaces."""
