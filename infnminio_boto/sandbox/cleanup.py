"""Stopping what a sandbox (possibly a crashed one) left running, and removing it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .ceph import CephCluster, SandboxStartError
from .files import STATE_FILE, is_sandbox_directory, load_state
from .oidc_agent import stop_agents_of
from .processes import pid_command_line, stop_pid

__all__ = ["stop_sandbox_in"]


def stop_sandbox_in(directory: Path) -> None:
    """Stop whatever a (possibly crashed) sandbox in ``directory`` left running."""
    directory = Path(directory)
    if not os.path.lexists(directory):
        return
    if not is_sandbox_directory(directory):
        raise SandboxStartError(
            f"{directory} exists but is not a sandbox directory (no {STATE_FILE}); it is "
            "left untouched. Choose another directory (INFNMINIO_SANDBOX_DIR)."
        )
    CephCluster(directory).stop()
    stop_agents_of(directory)  # oidc-agents started for tests of this sandbox
    try:
        state = load_state(directory)
    except (OSError, ValueError):
        state = {}
    agent = state.get("agent_pid")
    if agent and agent != os.getpid() and str(directory) in pid_command_line(agent):
        stop_pid(agent)
    shutil.rmtree(directory, ignore_errors=True)
