"""The command line's conventions: -v anywhere, help naming each flag's variable."""

from __future__ import annotations

import pytest
from support.cli import run_cli

from infnminio_boto.settings import SETTINGS_BY_NAME


@pytest.mark.parametrize("where", ["before", "after", "none"])
def test_verbose_goes_before_or_after_the_command(cli_env, where):
    command = ["credential-process", "--no-cache"]
    args = {"before": ["-v", *command], "after": [*command, "-v"], "none": command}[where]
    done = run_cli(*args, env=cli_env)
    assert done.returncode == 0, done.stderr
    said = "infnminio-boto: INFO: STS exchange at" in done.stderr
    assert said is (where != "none")


@pytest.mark.parametrize("command", ["credential-process", "configure", "env", "exec", "doctor"])
def test_every_settings_flag_names_its_variable_and_default(cli_env, command):
    shown = " ".join(run_cli(command, "--help", env=cli_env).stdout.split())
    for setting in SETTINGS_BY_NAME.values():
        assert setting.flag in shown, setting.flag
        assert f"[{setting.variable}; default:" in shown, setting.variable
