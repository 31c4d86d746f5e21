"""The sandbox directory: where it is, its state file, and what may be wiped."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Dict

__all__ = [
    "STATE_FILE",
    "default_directory",
    "save_state",
    "load_state",
    "is_sandbox_directory",
    "write_in_place",
]

STATE_FILE = "sandbox.json"


def default_directory() -> Path:
    """Where ``infnminio-boto sandbox start`` puts its sandbox: short, one per user."""
    # /tmp keeps admin socket paths under 107 characters; start() checks ownership.
    fallback = f"/tmp/infnminio-sandbox-{os.getuid()}"  # noqa: S108
    return Path(os.environ.get("INFNMINIO_SANDBOX_DIR") or fallback)


def save_state(directory: Path, state: Dict[str, Any]) -> None:
    """Write the state (it holds the administrator's keys: 0600) in one rename."""
    path = directory / STATE_FILE
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)
    os.replace(temporary, path)


def load_state(directory: Path) -> Dict[str, Any]:
    """The saved state; raises OSError or ValueError when there is none."""
    state = json.loads((directory / STATE_FILE).read_text())
    if not isinstance(state, dict):
        raise ValueError(f"{directory / STATE_FILE} is not a sandbox state")
    return state


def is_sandbox_directory(directory: Path) -> bool:
    """Ours to wipe: a real directory of this user that is empty or holds sandbox files."""
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    names = set(os.listdir(directory))
    return not names or STATE_FILE in names or "ceph.conf" in names or "issuer-key.pem" in names


def write_in_place(path: str, text: str) -> None:
    """Truncate then write, without a rename: exactly how sts-wire updates .token."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
