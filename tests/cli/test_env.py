"""`infnminio-boto env`: variables for the AWS CLI, s5cmd, rclone and mc."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import pytest
from support import secret_registry
from support.cli import COMMAND, clean_environment, run_cli
from support.fake_sts import Fault, Issued, success_xml
from support.shells import source

from infnminio_boto.cli.shells import render
from infnminio_boto.errors import ConfigurationError


def test_json_format_has_every_tool(cli_env, rgw_sts):
    done = run_cli("env", "--format", "json", env=cli_env)
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    issued = rgw_sts.issued[values["AWS_ACCESS_KEY_ID"]]
    assert values["AWS_SECRET_ACCESS_KEY"] == issued.secret_key
    assert values["AWS_SESSION_TOKEN"] == issued.session_token
    assert values["AWS_ENDPOINT_URL_S3"] == values["S3_ENDPOINT_URL"] == rgw_sts.url
    assert values["RCLONE_S3_ENV_AUTH"] == "true" and values["RCLONE_S3_ENDPOINT"] == rgw_sts.url
    assert values["AWS_REQUEST_CHECKSUM_CALCULATION"] == "WHEN_REQUIRED"
    assert "AWS_CA_BUNDLE" not in values  # none configured: the tools keep their own
    mc = urlsplit(values["MC_HOST_infn"])
    assert unquote(mc.username) == issued.access_key
    assert [unquote(p) for p in mc.password.split(":")] == [issued.secret_key, issued.session_token]


def test_a_shell_that_chose_its_checksums_keeps_them(cli_env):
    done = run_cli(
        "env", "--format", "json", env=dict(cli_env, AWS_REQUEST_CHECKSUM_CALCULATION="X")
    )
    values = json.loads(done.stdout)
    assert "AWS_REQUEST_CHECKSUM_CALCULATION" not in values
    assert values["AWS_RESPONSE_CHECKSUM_VALIDATION"] == "WHEN_REQUIRED"


@pytest.mark.sandbox
def test_eval_then_aws_cli(infnminio_sandbox, tmp_path):
    env = clean_environment(
        HOME=str(tmp_path),
        INFNMINIO_CACHE_DIR=str(tmp_path / "c"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        **infnminio_sandbox.environment(),
    )
    script = f'eval "$({" ".join(COMMAND)} env)"\naws s3 mb s3://from-env\naws s3 ls\n'
    done = subprocess.run(
        ["bash", "-euc", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "from-env" in done.stdout
    exported = json.loads(run_cli("env", "--format", "json", env=env).stdout)
    assert exported["AWS_CA_BUNDLE"] == exported["RCLONE_CA_CERT"] == infnminio_sandbox.ca_bundle


# ------------------------------------------------------------------ quoting (issue 17.6)
def _hostile(marker) -> dict:
    """Values that break naive quoting in at least one format; none may run anything."""
    return {
        "Q_QUOTE": "it's",
        "Q_BACKSLASH": "back\\slash \\' \\\\ \\n",
        "Q_SUBST": f"$(touch {marker})",
        "Q_BACKTICK": f"`touch {marker}`",
        "Q_NEWLINE": f"line one\nline two; touch {marker}",
        "Q_TRAILING": "ends in a backslash\\",
        "Q_UNICODE": "é€😀 ünïcode",
        "Q_DOLLAR": "${HOME} $HOME",
        "Q_DOUBLE": '"double" quotes',
        "Q_DASH": "-e",
        "Q_EMPTY": "",
    }


# What no dotenv reader can be given inertly: refused (see the next test).
_DOTENV_REFUSED = {"Q_QUOTE", "Q_BACKSLASH", "Q_NEWLINE", "Q_TRAILING", "Q_DOLLAR"}


@pytest.mark.parametrize("reader", ["bash", "dash", "fish", "dotenv", "json"])
def test_each_format_gives_its_shell_every_value_byte_for_byte(reader, tmp_path):
    marker = tmp_path / "ran"
    values = _hostile(marker)
    if reader == "dotenv":
        values = {k: v for k, v in values.items() if k not in _DOTENV_REFUSED}
        values["Q_DOLLAR"] = "$HOME and $(x) stay"
    style = {"bash": "sh", "dash": "sh"}.get(reader, reader)
    text = render(values, style)
    if reader == "json":
        got = {k: v.encode() for k, v in json.loads(text).items()}
    else:
        got = source(reader, text, tmp_path, clean_environment())
    for name, value in values.items():
        assert got.get(name) == value.encode("utf-8"), name
    assert not marker.exists(), "a value ran a command"


@pytest.mark.parametrize("name", sorted(_DOTENV_REFUSED))
def test_dotenv_refuses_what_its_readers_would_read_differently(name, tmp_path):
    value = _hostile(tmp_path / "ran")[name]
    with pytest.raises(ConfigurationError, match=f"value for {name} .*--format sh"):
        render({name: value}, "dotenv")


@pytest.mark.parametrize("style", ["sh", "fish", "dotenv", "json"])
def test_a_nul_or_a_name_that_is_code_is_refused_in_every_format(style):
    with pytest.raises(ConfigurationError, match="NUL"):
        render({"A": "x\0y"}, style)
    with pytest.raises(ConfigurationError, match="not a valid environment variable name"):
        render({"MC_HOST_x;rm": "x"}, style)


def _hostile_ca_bundle(tmp_path, marker, dotenv: bool) -> str:
    """A readable PEM file at a path a user could have, hostile to shells."""
    if dotenv:
        folder = tmp_path / f"ca $(touch {marker}) `touch {marker}` é"
        name = "ca.pem"
    else:
        folder = tmp_path / f"o'neil $(touch {marker}) `touch {marker}` \\ é\nnext"
        name = "ca.pem\\"  # a file name may end in a backslash
    folder.mkdir(parents=True)
    path = folder / name
    path.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    return str(path)


@pytest.mark.parametrize("reader", ["bash", "fish", "dotenv", "json"])
def test_env_output_read_by_its_shell_holds_the_settings_as_given(cli_env, reader, tmp_path):
    marker = tmp_path / "ran"
    dotenv = reader == "dotenv"
    region = f"eu-$(touch {marker})-`touch {marker}`" + ("" if dotenv else "-it's-\\")
    ca_bundle = _hostile_ca_bundle(tmp_path, marker, dotenv)
    style = "sh" if reader == "bash" else reader
    done = run_cli(
        "env", "--format", style, "--region", region, "--ca-bundle", ca_bundle, env=cli_env
    )
    assert done.returncode == 0, done.stderr
    if reader == "json":
        got = {k: v.encode() for k, v in json.loads(done.stdout).items()}
    else:
        got = source(reader, done.stdout, tmp_path, clean_environment())
    assert not marker.exists(), "a setting ran a command"
    assert got["AWS_REGION"] == got["RCLONE_S3_REGION"] == region.encode()
    assert got["AWS_CA_BUNDLE"] == got["RCLONE_CA_CERT"] == ca_bundle.encode()
    expected = json.loads(
        run_cli(
            "env", "--format", "json", "--region", region, "--ca-bundle", ca_bundle, env=cli_env
        ).stdout
    )
    assert got["AWS_SESSION_TOKEN"] == expected["AWS_SESSION_TOKEN"].encode()
    assert got["MC_HOST_infn"] == expected["MC_HOST_infn"].encode()


def test_dotenv_refuses_a_setting_it_cannot_write_inertly(cli_env, tmp_path):
    ca_bundle = _hostile_ca_bundle(tmp_path, tmp_path / "ran", dotenv=False)
    done = run_cli("env", "--format", "dotenv", "--ca-bundle", ca_bundle, env=cli_env)
    assert done.returncode == 3
    assert "AWS_CA_BUNDLE" in done.stderr and "--format sh" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("alias", ["x;rm -rf ~", "my-store", "a b", ""])
def test_an_mc_alias_that_is_no_variable_name_is_refused_before_any_exchange(
    cli_env, rgw_sts, alias
):
    done = run_cli("env", "--mc-alias", alias, env=cli_env)
    assert done.returncode == 3, done.stdout
    assert "--mc-alias" in done.stderr and "letters, digits and underscores" in done.stderr
    assert done.stdout == ""
    assert rgw_sts.exchanges == 0


@pytest.mark.parametrize("field", ["access_key", "secret_key", "session_token"])
def test_keys_with_shell_characters_from_the_sts_are_refused(cli_env, rgw_sts, field):
    hostile = dict(
        access_key="ASIAFAKE1234567890",
        secret_key="fakesecretfakesecret",
        session_token="fakesessionfakesession",
    )
    hostile[field] = "AKID'$(touch /tmp/x)\\"
    secret_registry.register(hostile["secret_key"], hostile["session_token"])
    issued = Issued(
        **{k: escape(v) for k, v in hostile.items()},
        expiration=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    rgw_sts.script(Fault(status=200, body=success_xml(issued, "rgw")))
    done = run_cli("env", "--format", "fish", env=cli_env)
    assert done.returncode == 5, done.stdout
    assert "characters no STS issues" in done.stderr
    assert "touch" not in done.stderr  # the value itself is never quoted
    assert done.stdout == ""
