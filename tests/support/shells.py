"""Reading variables back the way users do: the real shell sources the text, then a child
process reports the environment it inherited, byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

# A child that prints its whole environment as JSON, every byte kept (latin-1 maps each
# byte to one character), importing nothing from the caller's directory.
_REPORT = [
    sys.executable,
    "-I",
    "-c",
    "import json, os; print(json.dumps({k.decode('latin-1'): v.decode('latin-1') "
    "for k, v in os.environb.items()}))",
]

# How each format is read, as the README and `--help` tell users to.
_READERS = {
    # eval "$(infnminio-boto env)"
    "bash": ["bash", "-c", 'eval "$(cat "$1")" || exit 97; shift; exec "$@"', "bash"],
    "dash": ["dash", "-c", 'eval "$(cat "$1")" || exit 97; shift; exec "$@"', "dash"],
    # infnminio-boto env --format fish | source
    "fish": [
        "fish",
        "--no-config",
        "-c",
        "cat $argv[1] | source; or exit 97; exec $argv[2..-1]",
    ],
    # set -a; . ./file.env
    "dotenv": ["sh", "-c", 'set -a; . "$1" || exit 97; set +a; shift; exec "$@"', "sh"],
}


def require_shell(name: str) -> str:
    """The shell's path; skips without it, except under CI, where it must be installed
    (``make test`` installs fish)."""
    program = "sh" if name == "dotenv" else name
    path = shutil.which(program)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {program} is not installed (make test installs it)")
        pytest.skip(f"{program} is not installed")
    return path


def source(reader: str, text: str, tmp_path: Path, env: Dict[str, str]) -> Dict[str, bytes]:
    """The environment a child of ``reader`` has after it read ``text``, as bytes."""
    require_shell(reader)
    script = tmp_path / f"vars.{reader}"
    script.write_bytes(text.encode("utf-8"))
    command: List[str] = [*_READERS[reader], str(script), *_REPORT]
    done = subprocess.run(command, capture_output=True, env=env, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    report = json.loads(done.stdout)
    return {name: value.encode("latin-1") for name, value in report.items()}
