"""Shell completion through argcomplete's protocol, as bash runs it."""

from __future__ import annotations

import subprocess

import pytest
from support.cli import SCRIPT, clean_environment, run_cli


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_names_the_command(shell):
    done = run_cli("completion", shell, env=clean_environment())
    assert done.returncode == 0 and "infnminio-boto" in done.stdout


@pytest.mark.parametrize(
    "line, expected",
    [("infnminio-boto con", {"configure"}), ("infnminio-boto doctor --ca", {"--ca-bundle",
                                                                             "--cache-dir"})],
)
def test_completing_commands_and_flags(tmp_path, line, expected):
    out = tmp_path / "completions"
    env = clean_environment(
        COMP_LINE=line,
        COMP_POINT=str(len(line)),
        _ARGCOMPLETE="1",
        _ARGCOMPLETE_IFS=" ",
        _ARGCOMPLETE_STDOUT_FILENAME=str(out),
    )
    done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert set(out.read_text().split()) == expected
