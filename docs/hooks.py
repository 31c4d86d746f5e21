"""MkDocs hook: the README is the site's front page, and the benchmark charts are in it.

The README's links into ``docs/`` are rewritten to the pages' own names, and the pages'
links to ``../benchmarks/results/*.png`` to the copies added to the site, so that the
same files read right on GitHub and on the site (any other link outside ``docs/`` is
left as it is, and the strict build says so).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHARTS = "benchmarks/results"


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    text = re.sub(r"\]\(docs/([^)]+)\)", r"](\1)", (ROOT / "README.md").read_text("utf-8"))
    files.append(File.generated(config, "index.md", content=text))
    for chart in sorted((ROOT / CHARTS).glob("*.png")):
        files.append(File.generated(config, f"{CHARTS}/{chart.name}", abs_src_path=str(chart)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return markdown.replace(f"](../{CHARTS}/", f"]({CHARTS}/")
