"""Whether a second account (nobody) can run this interpreter, for the tests of files and
locks another account planted."""

from __future__ import annotations

import subprocess
import sys

import pytest

NOBODY = 65534


def require_python_for_nobody() -> None:
    """Skip unless nobody can run ``sys.executable``: a Python whose shared libpython lies
    under a private home (pyenv's in /root, as `make range` uses for 3.9 and the newest
    Python) loads only for root."""
    done = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         sys.executable, "-I", "-c", "pass"],
        capture_output=True, text=True, timeout=60,
    )
    if done.returncode != 0:
        said = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        pytest.skip(f"another account cannot run {sys.executable} here: {said[-1]}")
