"""Installing as users do: plain pip, an empty virtualenv, an empty pip cache.

`pip install --no-cache-dir ".[all]"` (what a user types) against the same with
`-c requirements/constraints.txt` (what `make` does for speed and reproducibility).
Both download everything; the difference is pip's resolution. Then pip's resolution
alone (`--dry-run`), with pyproject.toml's bounds on boto3 and botocore and without
them (a copy of the checkout with those lines removed): how many boto3 releases pip
fetches before it settles (two when it takes no step back: the newest, looked at once,
and the one it keeps).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Tuple

from measure import count_row, seconds_row

ROOT = Path(__file__).resolve().parent.parent
# A line of pyproject.toml bounding boto3 or botocore for aiobotocore's sake.
_BOUND = re.compile(r'^\s*"boto(3|core)>=[^"]*; python_version[^"]*",\n', re.M)
_FETCHED = re.compile(r"boto3-(\d[\w.]*?)(?:-py|\.tar\.gz)")


def _environment(work: Path, name: str) -> str:
    environment = work / name
    venv.create(environment, with_pip=True)
    python = str(environment / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                   check=True, capture_output=True, timeout=600)
    return python


def _install(work: Path, name: str, *extra: str) -> float:
    python = _environment(work, name)
    started = time.perf_counter()
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-cache-dir", f"{ROOT}[all]", *extra],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=1800,
    )
    return time.perf_counter() - started


def _resolve(work: Path, name: str, project: Path) -> Tuple[float, int]:
    """Seconds of a dry-run resolution, and the boto3 releases pip fetched."""
    python = _environment(work, name)
    log = work / f"{name}.log"
    started = time.perf_counter()
    subprocess.run(
        [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-cache-dir",
         "--log", str(log), f"{project}[all]"],
        check=True, capture_output=True, timeout=3600,
    )
    seconds = time.perf_counter() - started
    fetched = {
        match.group(1) for line in log.read_text().splitlines()
        if "Downloading" in line or "Obtaining dependency information" in line
        for match in _FETCHED.finditer(line)
    }
    return seconds, len(fetched)


def pip_install(work: Path) -> None:
    print("pip install \".[all]\" into empty virtualenvs", flush=True)
    plain = _install(work, "plain")
    constrained = _install(work, "constrained", "-c", str(ROOT / "requirements/constraints.txt"))
    seconds_row(
        'plain `pip install --no-cache-dir ".[all]"` into an empty virtualenv (target: '
        "under 120 s)",
        plain,
        "the same with make's constraints file",
        constrained,
    )
    if plain > 120:
        print(f"  WARNING: {plain:.0f} s is over the 2-minute target", file=sys.stderr)
    unbounded = work / "unbounded"
    shutil.copytree(ROOT, unbounded, ignore=shutil.ignore_patterns(
        ".venv*", ".git", "build", "dist", "*.egg-info", "__pycache__", "benchmarks"))
    pyproject = unbounded / "pyproject.toml"
    pyproject.write_text(_BOUND.sub("", pyproject.read_text()))
    ours_seconds, ours_fetched = _resolve(work, "resolve-bounded", ROOT)
    their_seconds, their_fetched = _resolve(work, "resolve-unbounded", unbounded)
    seconds_row(
        'pip\'s resolution of plain `pip install ".[all]"` (`--dry-run`, empty cache)',
        ours_seconds, "without the boto3/botocore bounds", their_seconds,
    )
    count_row(
        "boto3 releases pip fetched in that resolution (2: no step back)",
        ours_fetched, "without the boto3/botocore bounds", their_fetched, "releases",
    )
