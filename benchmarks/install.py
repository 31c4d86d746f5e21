"""Installing as users do: plain pip, an empty virtualenv, an empty pip cache.

`pip install --no-cache-dir ".[all]"` (what a user types) against the same with
`-c requirements/constraints.txt` (what `make` does for speed and reproducibility).
Both download everything; the difference is pip's resolution.
"""

from __future__ import annotations

import subprocess
import sys
import time
import venv
from pathlib import Path

from measure import seconds_row

ROOT = Path(__file__).resolve().parent.parent


def _install(work: Path, name: str, *extra: str) -> float:
    environment = work / name
    venv.create(environment, with_pip=True)
    started = time.perf_counter()
    subprocess.run(
        [str(environment / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--no-cache-dir", f"{ROOT}[all]", *extra],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=1800,
    )
    return time.perf_counter() - started


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
