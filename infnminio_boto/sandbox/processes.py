"""Small process and port helpers for the sandbox's daemons (Linux /proc)."""

from __future__ import annotations

import os
import signal
import socket
import time
from typing import Dict

__all__ = ["free_port", "alive", "stop_pid", "pid_command_line", "environment_for_programs"]


def environment_for_programs() -> Dict[str, str]:
    """This process's environment without the ``PYTHON*`` variables, for Ceph's programs.

    ``ceph`` is a Python script (``#!/usr/bin/python3``): a ``PYTHONPATH`` of the
    user's would put their modules before the standard library in it (a folder with a
    ``json.py`` or ``argparse.py`` breaks or takes over ``ceph``), and ``PYTHONHOME``
    or ``PYTHONSTARTUP`` would change which Python runs and what it runs first.
    """
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def pid_command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
