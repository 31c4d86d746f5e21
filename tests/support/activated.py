"""Running a scenario of activate() in a fresh Python process, as a notebook kernel is one.

Activation is process-wide, and pyarrow reads its CA list once, when pyarrow.fs is first
imported (the test process imported it long ago): so each scenario is a script run with
the sandbox's settings as INFNMINIO_* variables, printing one JSON line of results.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from infnminio_boto.settings import SETTING_NAMES
from support import secret_registry
from support.jwt_helpers import write_in_place

TESTS = Path(__file__).resolve().parents[1]


def sandbox_settings_in(sandbox: Any, folder: Path) -> Dict[str, Any]:
    """Settings keywords for ``sandbox`` with a token file and a cache in ``folder``."""
    token = sandbox.mint_token(lifetime=3600)
    secret_registry.register(token)
    write_in_place(str(folder / "token"), token + "\n")
    return dict(
        sandbox.settings(), token_file=str(folder / "token"), cache_dir=str(folder / "cache")
    )


def environment_for(settings: Dict[str, Any], home: Path, **extra: str) -> Dict[str, str]:
    """A clean environment with ``settings`` as INFNMINIO_* variables, as a notebook on
    the hub has them, and a HOME (AWS config file, caches) of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INFNMINIO_", "AWS_", "XDG_CACHE_HOME", "MPLBACKEND"))
    }
    env.update({SETTING_NAMES[name]: str(value) for name, value in settings.items()})
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(TESTS),  # the scripts use tests/support
    )
    env.update(extra)
    return env


def run_script(code: str, env: Dict[str, str], *args: str, timeout: float = 300) -> Any:
    """Run ``code`` with ``args``; its last line of output, parsed as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert not secret_registry.leaked(done.stdout + done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def without_aws_variables() -> Iterator[None]:
    """No AWS_* variable in this process meanwhile: module-scoped fixtures run before
    conftest's per-test clean environment, and may find what an earlier test left
    (an AWS_PROFILE set by a pyarrow helper, say)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                patch.delenv(name)
        yield
