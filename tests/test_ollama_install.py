"""Creating a fine-tuned model in Ollama: blobs then create, against the loopback fake."""

import hashlib
import json

import pytest

from openbook.assistant.cli.main import main
from openbook.assistant.errors import OpenbookError
from openbook.assistant.models.install import CHATML, STOP, create
from openbook.assistant.models.llamacpp_backend import bundled_gguf
from tests.helpers import closed_port_host
from tests.ollama_fake import FakeOllama


def cli(capsys, tmp_path, *args):
    with pytest.raises(SystemExit) as info:
        main(["--data-dir", str(tmp_path / "data"), *args])
        raise SystemExit(0)
    return info.value.code or 0, capsys.readouterr().out


def sha(path):
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def files(tmp_path):
    base, adapter = tmp_path / "base.gguf", tmp_path / "reader.gguf"
    base.write_bytes(b"GGUF base weights " * 1000)
    adapter.write_bytes(b"GGUF lora " * 300)
    return base, adapter


def test_create_uploads_both_files_then_creates_with_template_and_stops(files):
    base, adapter = files
    with FakeOllama(models=[]) as fake:
        plan = create(fake.host, "openbook-reader", base, adapter, num_ctx=2048)
        assert fake.blobs == {sha(base): base.stat().st_size, sha(adapter): adapter.stat().st_size}
        body = fake.created["openbook-reader"]
        assert body["files"] == {"base.gguf": sha(base)}
        assert body["adapters"] == {"reader.gguf": sha(adapter)}
        assert body["template"] == CHATML and body["parameters"]["stop"] == STOP
        assert body["parameters"]["temperature"] == 0 and body["parameters"]["num_ctx"] == 2048
        assert "openbook-reader" in fake.models
    modelfile = plan.modelfile()
    assert f"FROM {base}" in modelfile and f"ADAPTER {adapter}" in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile


def test_create_merged_sends_no_adapter(files):
    base, _ = files
    with FakeOllama(models=[]) as fake:
        create(fake.host, "merged", base)
        assert fake.created["merged"].get("adapters") is None


def test_unreachable_ollama_is_a_clear_error(files):
    base, adapter = files
    with pytest.raises(OpenbookError) as info:
        create(closed_port_host(), "openbook-reader", base, adapter)
    assert "Cannot reach Ollama" in info.value.message and "ollama serve" in info.value.hint


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(OpenbookError, match="No such model file"):
        create("http://127.0.0.1:1", "x", tmp_path / "nope.gguf")


@pytest.mark.skipif(bundled_gguf() is None, reason="bundled model not installed")
def test_models_install_cli_then_roles_resolve_to_ollama(capsys, monkeypatch, files, tmp_path):
    _, adapter = files
    with FakeOllama(models=[]) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.host)
        monkeypatch.setenv("OPENBOOK_MODELS__ANSWERER__MODEL", "openbook-reader")
        code, out = cli(capsys, tmp_path, "models", "install", "--adapter", str(adapter), "--json")
        assert code == 0, out
        report = json.loads(out)
        assert report["digests"][adapter.name] == sha(adapter)
        assert fake.blobs[sha(bundled_gguf())] == bundled_gguf().stat().st_size

        code, out = cli(capsys, tmp_path, "models", "--json")
        roles = {r["role"]: r for r in json.loads(out)["roles"]}
        assert roles["answerer"]["backend"] == "ollama" and roles["answerer"]["model"] == "openbook-reader"


@pytest.fixture
def shipped_reader(monkeypatch, files):
    from openbook.assistant.models import resolve as resolve_mod

    shipped = files[1].with_name("openbook-reader.gguf")
    shipped.write_bytes(files[1].read_bytes())
    monkeypatch.setattr(resolve_mod, "reader_adapter", lambda: shipped)
    return shipped


@pytest.mark.skipif(bundled_gguf() is None, reason="bundled model not installed")
def test_the_shipped_reader_is_the_default_answerer_and_is_created_in_ollama_on_first_run(shipped_reader):
    from openbook.assistant.models.resolve import READER_NAME, resolve
    from openbook.assistant.settings import load_settings

    with FakeOllama(models=["qwen3:0.6b"]) as fake:
        s = load_settings({"ollama": {"host": fake.host}})
        r = resolve(s, "answerer")
        assert r.model.backend == "ollama" and r.model.name == READER_NAME and "first run" in r.reason
        assert fake.created[READER_NAME]["adapters"] == {shipped_reader.name: sha(shipped_reader)}
        again = resolve(s, "answerer")  # now Ollama has it: nothing is uploaded twice
        assert again.reason.endswith(f"has {READER_NAME}") and len(fake.created) == 1
        assert resolve(s, "planner").model.name == "smollm2-135m-instruct"  # other roles: the base
        mine = load_settings({"ollama": {"host": fake.host}, "models": {"answerer": {"model": "qwen3:0.6b"}}})
        assert resolve(mine, "answerer").model.name == "qwen3:0.6b"  # a configured answerer wins
        off = load_settings({"ollama": {"host": fake.host}, "models": {"reader": False}})
        assert resolve(off, "answerer").model.name == "smollm2-135m-instruct"
        other = load_settings({"ollama": {"host": fake.host}, "models": {"default": {"model": "qwen3:0.6b"}}})
        assert resolve(other, "answerer").model.name == "qwen3:0.6b"  # the reader only replaces the base
    s = load_settings({"ollama": {"host": closed_port_host()}})
    r = resolve(s, "answerer")
    assert r.model.backend == "in-process" and r.model.name == READER_NAME and "not running" in r.reason


@pytest.mark.skipif(bundled_gguf() is None, reason="bundled model not installed")
def test_a_failed_create_falls_back_to_in_process_and_says_why(shipped_reader):
    from openbook.assistant.models.resolve import READER_NAME, resolve
    from openbook.assistant.settings import load_settings

    with FakeOllama(models=[]) as fake:
        fake.blobs = _Refusing()  # every blob upload "fails" to register
        r = resolve(load_settings({"ollama": {"host": fake.host}}), "answerer")
    assert r.model.backend == "in-process" and r.model.name == READER_NAME
    assert f"could not create {READER_NAME} in Ollama" in r.reason


class _Refusing(dict):
    def __setitem__(self, key, value):
        pass
