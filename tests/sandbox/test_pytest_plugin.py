"""The package's pytest fixtures when what they need is missing: skip, or fail under CI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PYTEST = [sys.executable, "-m", "pytest", "-q", "-rsE", "-p", "no:cacheprovider"]
USES_THE_AGENT = """
def test_uses_the_agent(infnminio_oidc_agent):
    pass
"""


@pytest.mark.parametrize("ci", ["", "true"])
def test_without_oidc_agent_the_fixture_skips_or_fails_under_ci(tmp_path, ci):
    (tmp_path / "test_user_suite.py").write_text(USES_THE_AGENT)
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=str(empty), CI=ci)  # no oidc-agent on PATH
    done = subprocess.run(
        [*PYTEST, "test_user_suite.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ci:
        assert "1 error" in done.stdout and "CI is set" in done.stdout, done.stdout
    else:
        assert "1 skipped" in done.stdout, done.stdout
    assert "apt-get install --no-install-recommends -y oidc-agent-cli" in done.stdout
