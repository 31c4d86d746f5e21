"""The documentation site builds, strictly (a broken link or anchor fails), and says
what the code does: every command of the CLI has its row in docs/cli.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_site_builds_strictly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    front = (tmp_path / "index.html").read_text()
    assert "make demo" in front and 'href="tokens/' in front  # the README, links rewritten


def test_every_command_has_its_row_in_the_cli_page():
    from infnminio_boto.cli import build_parser

    page = (ROOT / "docs" / "cli.md").read_text()
    parser = build_parser()
    [commands] = [a for a in parser._actions if a.dest == "command"]
    for name in commands.choices:
        assert f"`infnminio-boto {name}" in page, name


def test_the_cli_page_lists_every_exit_code():
    from infnminio_boto.cli import common

    page = (ROOT / "docs" / "cli.md").read_text()
    codes = {value for name, value in vars(common).items() if name.startswith("EXIT_")}
    assert codes == set(range(9))
    for code in [*sorted(codes), 130]:
        assert f"\n| {code} | " in page, code


def test_the_codes_pointers_into_the_docs_name_pages_and_sections_that_exist():
    """A docstring's `docs/PAGE.md, "Section"` leads somewhere: the page, and a heading (or
    a bold paragraph or list-item title) that starts with those words."""
    import re

    pointer = re.compile(r'docs/([\w-]+\.md)(?:,\s+"([^"]+)")?')
    broken = []
    for module in sorted((ROOT / "infnminio_boto").rglob("*.py")):
        for page, section in pointer.findall(module.read_text()):
            path = ROOT / "docs" / page
            if not path.is_file():
                broken.append(f"{module.name}: docs/{page}")
                continue
            titles = [
                line.lstrip("#*- ").lower() for line in path.read_text().splitlines()
                if line.startswith(("#", "**", "- **"))
            ]
            if section and not any(t.startswith(section.lower()) for t in titles):
                broken.append(f"{module.name}: docs/{page}, {section!r}")
    assert not broken, broken
