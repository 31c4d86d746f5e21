"""Running the command line as a user would: a separate process, a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import secret_registry

COMMAND = [sys.executable, "-m", "infnminio_boto"]
SCRIPT = Path(sys.executable).parent / "infnminio-boto"


def clean_environment(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFNMINIO_", "AWS_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run_cli(*args: str, env: dict, timeout: float = 120, stdin=subprocess.DEVNULL):
    done = subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=env, timeout=timeout, stdin=stdin
    )
    # Diagnostics never carry a secret (stdout may: that is what env and
    # credential-process are for).
    found = secret_registry.leaked(done.stderr)
    assert not found, f"secrets on stderr of {args}: {found}"
    return done
