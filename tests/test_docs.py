"""The documentation holds together: the README stays a user's guide within its budget, and every
link in the README and docs/ points at a file, and a section, that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_BUDGET = 450  # lines: the user's guide; design and evidence go to docs/
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+)$", text, re.M)}


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [m.group(1) for m in LINK.finditer(text)]


def test_the_readme_is_within_its_budget_and_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_BUDGET, f"README.md has {len(lines)} lines (budget {README_BUDGET})"
    head = "\n".join(lines[:12])
    assert "make run" in head and "make test" in head


def test_the_docs_pages_exist():
    names = {p.name for p in PAGES}
    assert {"README.md", "benchmarks.md", "design.md", "finetuning.md", "development.md"} <= names


def test_every_link_points_at_a_file_and_section_that_exist():
    broken = []
    for page in PAGES:
        for target in links(page):
            if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.name}: {target} (no such section)")
    assert not broken, "\n".join(broken)


def test_the_link_checker_catches_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## A section: `code`\n\n[ok](#a-section-code) [bad](#nowhere) [gone](missing.md)\n"
    )
    assert anchors(page) == {"title", "a-section-code"}
    assert links(page) == ["#a-section-code", "#nowhere", "missing.md"]
