"""What a non-editable install ships: every package and the data files the code reads."""

import tomllib
from pathlib import Path

from tests.helpers import FOLDERS

ROOT = Path(__file__).resolve().parent.parent


def test_every_python_package_is_listed_in_pyproject():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set()
    for folder, name in FOLDERS.items():
        for module in (ROOT / folder).rglob("*.py"):  # namespace packages have no __init__.py
            if "__pycache__" in module.parts:
                continue
            rel = module.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *rel.parts]))
    assert found == set(cfg["packages"]), found ^ set(cfg["packages"])
    assert "reader/*.gguf" in cfg["package-data"]["openbook.assistant.models"]  # the shipped reader
