from pathlib import Path

import pytest

from openbook.assistant import paths
from openbook.assistant.errors import ConfigError
from openbook.assistant.settings import Settings, _flatten, explain, load_settings, mask_url


def _write_config(text: str) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults():
    s = load_settings()
    assert s.ingest.chunk_size == 200
    assert s.database.external is False
    assert s.embedding.model == "all-MiniLM-L6-v2"


def test_precedence_default_file_env_cli(monkeypatch):
    _write_config("[ingest]\nchunk_size = 300\nchunk_overlap = 10\nmax_file_mb = 3\n")
    monkeypatch.setenv("OPENBOOK_INGEST__CHUNK_OVERLAP", "20")
    monkeypatch.setenv("OPENBOOK_INGEST__MAX_FILE_MB", "4")
    s = load_settings({"ingest": {"max_file_mb": 5}})
    assert s.ingest.chunk_size == 300  # file beats default
    assert s.ingest.chunk_overlap == 20  # env beats file
    assert s.ingest.max_file_mb == 5  # cli beats env
    sources = {name: source for name, _, source in explain({"ingest": {"max_file_mb": 5}})}
    assert sources["ingest.chunk_size"].startswith("file ")
    assert sources["ingest.chunk_overlap"] == "env"
    assert sources["ingest.max_file_mb"] == "cli"
    assert sources["ingest.chunk_size"] != sources["embedding.model"] == "default"


def test_standard_env_vars(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:11500")
    monkeypatch.setenv("DATABASE_URL", "postgresql://bob:hunter2@db.example/lib")
    s = load_settings()
    assert s.ollama.host == "http://127.0.0.1:11500"
    assert s.database.external
    rows = {name: (value, source) for name, value, source in explain()}
    assert rows["database.url"] == ("postgresql://bob:***@db.example/lib", "env (standard)")
    assert "hunter2" not in str(rows)


def test_prefixed_env_beats_standard_env(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://a:1")
    monkeypatch.setenv("OPENBOOK_OLLAMA__HOST", "http://b:2")
    assert load_settings().ollama.host == "http://b:2"


def test_libpq_env_selects_external(monkeypatch):
    monkeypatch.setenv("PGHOST", "/var/run/postgresql")
    s = load_settings()
    assert s.database.use_libpq_env and s.database.external


def test_bad_toml_is_a_clear_error():
    path = _write_config("[ingest\nchunk_size = ")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(path) in info.value.message


def test_unknown_or_invalid_values_are_clear_errors(monkeypatch):
    _write_config("[ingest]\nchunk_sise = 100\n")
    with pytest.raises(ConfigError, match="chunk_sise"):
        load_settings()
    _write_config("")
    monkeypatch.setenv("OPENBOOK_INGEST__CHUNK_SIZE", "-5")
    with pytest.raises(ConfigError, match="ingest.chunk_size"):
        load_settings()


def test_mask_url():
    assert mask_url("postgresql://u:p@h/d") == "postgresql://u:***@h/d"
    assert mask_url("host=h password=secret user=u") == "host=h password=*** user=u"


def _readme_config() -> str:
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"```toml\n(# ~/.config/openbook/config.toml\n.*?)```", readme, re.S)
    assert block, "the README lost its config.toml example"
    return block.group(1)


def test_the_readme_config_example_is_valid_and_states_the_defaults():
    """The config.toml in the README loads, and every value it sets is the default it claims."""
    import tomllib

    text = _readme_config()
    _write_config(text)
    effective = _flatten(load_settings().model_dump(mode="json"))
    defaults = _flatten(Settings.model_construct().model_dump(mode="json"))
    for name, value in _flatten(tomllib.loads(text)).items():
        assert effective[name] == value == defaults[name], f"README: {name} = {value!r}"


def test_the_readme_documents_exactly_the_user_settings_and_there_are_at_most_30():
    """Every setting a user is expected to set is in the README's example (set, or commented
    out with its default), and nothing else is: the rest are expert overrides."""
    import re

    from openbook.assistant.settings import user_settings

    names = set(user_settings())
    assert len(names) <= 30, sorted(names)
    text, section, shown = _readme_config(), "", set()
    for line in text.splitlines():
        if m := re.match(r"^\[([\w.]+)\]", line):
            section = m.group(1)
        elif m := re.match(r"^#?\s?([a-z_]+) = ", line):
            shown.add(f"{section}.{m.group(1)}")
    assert shown == names, (sorted(shown - names), sorted(names - shown))


def test_every_expert_setting_is_documented_once_in_the_design_notes():
    from openbook.assistant.settings import expert_names

    design = (Path(__file__).resolve().parents[1] / "docs" / "design.md").read_text()
    section = design.split("## Expert overrides", 1)[1]
    missing = [n for n in sorted(expert_names()) if f"`{n}`" not in section]
    assert not missing, missing


def test_step_values_have_one_default_in_the_step_that_declares_it():
    """A pipeline setting a step also declares is unset by default (the step's value is in
    force, and `openbook config` shows it), so no default is written twice."""
    from openbook.agents.pipeline import step_defaults
    from openbook.assistant.settings import PipelineSettings, explain

    declared = step_defaults()
    shared = [n for n in PipelineSettings.model_fields if n in declared]
    assert {"support", "max_passages", "k_per_piece", "gate", "answer_max_tokens"} <= set(shared)
    for name in shared:
        assert PipelineSettings.model_fields[name].default is None, name
    _write_config("")
    rows = {n: (v, s) for n, v, s in explain()}
    assert rows["pipeline.support"] == (0.3, "default (agents/answerer.py)")
    assert rows["pipeline.max_passages"] == (6, "default (agents/kit/runner.py)")
