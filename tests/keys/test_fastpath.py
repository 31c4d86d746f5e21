"""The fast credential-process: the cached answer with nothing imported, else the full one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from support.cli import COMMAND, clean_environment, run_cli
from support.jwt_helpers import make_jwt, write_in_place

from infnminio_boto.keys import fastpath
from infnminio_boto.settings import SETTINGS_BY_NAME

ENTRY_SCRIPT = str(Path(fastpath.__file__).with_name("fast_credential_process.py"))
FLAGS = ["--role-session-name", "fast-test"]


def fast(env: dict, *flags: str) -> subprocess.CompletedProcess:
    """The command the profile runs, exactly: isolated python on the entry script."""
    return subprocess.run(
        [sys.executable, "-I", "-S", ENTRY_SCRIPT, *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def environ_of(env: dict) -> dict:
    """What the fast path reads of an environment."""
    return {
        k: v
        for k, v in env.items()
        if k.startswith("INFNMINIO_") or k in fastpath.READ_VARIABLES
    }


def entries(env: dict) -> list:
    return sorted(Path(env["INFNMINIO_CACHE_DIR"]).glob("fast-*"))


def test_the_full_command_leaves_an_entry_the_fast_one_answers_from(cli_env, rgw_sts):
    full = run_cli("credential-process", *FLAGS, env=cli_env)
    assert full.returncode == 0, full.stderr
    [entry] = entries(cli_env)
    assert entry.stat().st_mode & 0o777 == 0o600
    answered = fast(cli_env, *FLAGS)
    assert answered.returncode == 0 and answered.stderr == ""
    assert answered.stdout == full.stdout
    assert rgw_sts.exchanges == 1
    assert fastpath.answer(FLAGS, environ_of(cli_env)) == full.stdout.encode()


def imported_by(*args: str, env: dict) -> set:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines()[1:]}


def test_the_fast_answer_imports_nothing_beyond_an_interpreters_start(cli_env):
    run_cli("credential-process", *FLAGS, env=cli_env)
    extra = imported_by(ENTRY_SCRIPT, *FLAGS, env=cli_env) - imported_by("-c", "pass", env=cli_env)
    assert extra <= {"fastpath", "hot_path", "discovery", "_sha2", "_sha256"}, extra


def test_a_miss_hands_over_to_the_full_command(cli_env, rgw_sts):
    handed = fast(cli_env, *FLAGS)  # empty cache
    assert handed.returncode == 0, handed.stderr
    assert json.loads(handed.stdout)["AccessKeyId"] in rgw_sts.issued
    assert len(entries(cli_env)) == 1  # and the full command left the entry
    failing = fast(dict(cli_env, INFNMINIO_DURATION_SECONDS="twice"), *FLAGS)
    assert failing.returncode == 3 and "INFNMINIO_DURATION_SECONDS" in failing.stderr


@pytest.mark.parametrize(
    "change",
    ["other flags", "other variable", "new token", "no-cache", "verbose", "cache off"],
)
def test_anything_else_is_not_answered_here(cli_env, change):
    run_cli("credential-process", *FLAGS, env=cli_env)
    flags, environ = list(FLAGS), environ_of(cli_env)
    assert fastpath.answer(flags, environ) is not None  # unchanged: answered
    if change == "other flags":
        flags += ["--region", "eu-south-1"]
    elif change == "other variable":
        environ["INFNMINIO_REGION"] = "eu-south-1"
    elif change == "new token":
        write_in_place(cli_env["INFNMINIO_TOKEN_FILE"], make_jwt() + "\n")
    elif change == "no-cache":
        flags.append("--no-cache")
    elif change == "verbose":
        flags.append("-v")
    else:
        environ["INFNMINIO_CACHE"] = "0"
    assert fastpath.answer(flags, environ) is None


def rewrite(entry: Path, fresh_until: float, expires_at=None) -> None:
    _, expiry, payload = fastpath.decode_entry(entry.read_bytes())
    entry.write_bytes(fastpath.encode_entry(fresh_until, expires_at or expiry, payload))


def test_an_entry_is_handed_out_until_the_moment_the_full_command_chose(cli_env):
    run_cli("credential-process", *FLAGS, env=cli_env)
    [entry] = entries(cli_env)
    fresh_until, expires_at, _ = fastpath.decode_entry(entry.read_bytes())
    assert expires_at - fresh_until == 16 * 60  # hour-long keys: the SDKs' window and a minute
    rewrite(entry, time.time() - 5)
    assert fastpath.answer(FLAGS, environ_of(cli_env)) is None
    rewrite(entry, time.time() + 60)
    assert fastpath.answer(FLAGS, environ_of(cli_env)) is not None


@pytest.mark.parametrize("tamper", ["world-writable", "symlink", "garbage", "directory link"])
def test_an_entry_that_cannot_be_trusted_is_not_used(cli_env, tmp_path, tamper):
    run_cli("credential-process", *FLAGS, env=cli_env)
    [entry] = entries(cli_env)
    if tamper == "world-writable":
        entry.chmod(0o666)
    elif tamper == "symlink":
        planted = tmp_path / "planted"
        planted.write_bytes(entry.read_bytes())
        entry.unlink()
        entry.symlink_to(planted)
    elif tamper == "garbage":
        entry.write_bytes(b"not an entry")
    else:
        real = Path(cli_env["INFNMINIO_CACHE_DIR"])
        moved = real.with_name("moved")
        real.rename(moved)
        real.symlink_to(moved)
    assert fastpath.answer(FLAGS, environ_of(cli_env)) is None


def test_a_new_entry_removes_the_expired_ones(cli_env):
    run_cli("credential-process", *FLAGS, env=cli_env)
    [old] = entries(cli_env)
    rewrite(old, time.time() - 20, time.time() - 10)
    write_in_place(cli_env["INFNMINIO_TOKEN_FILE"], make_jwt() + "\n")  # sts-wire's next
    run_cli("credential-process", *FLAGS, env=cli_env)
    [new] = entries(cli_env)
    assert new != old


def test_the_rules_it_shares_with_the_full_command_agree():
    switches = {s.flag for s in SETTINGS_BY_NAME.values() if not s.takes_value}
    assert switches == {fastpath.SWITCH_ON, fastpath.SWITCH_OFF}
    assert fastpath.expand_user("~/t", {"HOME": "/h/"}) == "/h/t"
    assert fastpath.default_cache_dir({"HOME": "/h"}) == "/h/.cache/infnminio-boto"


def test_the_console_script_answers_from_the_same_entry(cli_env, rgw_sts):
    first = fast(cli_env, *FLAGS)
    second = subprocess.run(
        [*COMMAND, "credential-process", *FLAGS],
        env=clean_environment(**{k: v for k, v in cli_env.items()}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.stdout == first.stdout and rgw_sts.exchanges == 1
    assert os.stat(entries(cli_env)[0]).st_size < fastpath.MAX_BYTES


def test_the_default_token_file_and_cache_directory_as_on_the_hub(cli_env, rgw_sts, tmp_path):
    home = tmp_path / "hub-home"
    home.mkdir()
    write_in_place(str(home / ".token"), make_jwt() + "\n")
    env = {
        k: v
        for k, v in cli_env.items()
        if k not in ("INFNMINIO_TOKEN_FILE", "INFNMINIO_CACHE_DIR")
    }
    env["HOME"] = str(home)
    full = run_cli("credential-process", env=env)
    assert full.returncode == 0, full.stderr
    assert list((home / ".cache" / "infnminio-boto").glob("fast-*"))
    assert fast(env).stdout == full.stdout and rgw_sts.exchanges == 1


def test_the_warm_path_never_runs_the_token_command(cli_env, rgw_sts, tmp_path):
    """A command or oidc-agent source: the warm path keys on the source, not the token."""
    log = tmp_path / "runs.log"
    printer = tmp_path / "print-token"
    printer.write_text(
        f"#!{sys.executable} -I\nopen({str(log)!r}, 'a').write('run\\n')\n"
        f"print({make_jwt()!r})\n"
    )
    printer.chmod(0o700)
    env = {k: v for k, v in cli_env.items() if k != "INFNMINIO_TOKEN_FILE"}
    env["INFNMINIO_TOKEN_COMMAND"] = str(printer)
    first = fast(env, *FLAGS)  # a miss: the full command runs it once
    assert first.returncode == 0, first.stderr
    for _ in range(3):
        assert fast(env, *FLAGS).stdout == first.stdout
    assert log.read_text().count("run") == 1 and rgw_sts.exchanges == 1


def test_bearer_token_is_found_by_both_paths(cli_env, rgw_sts):
    env = {k: v for k, v in cli_env.items() if k != "INFNMINIO_TOKEN_FILE"}
    env["BEARER_TOKEN"] = make_jwt(sub="from-the-variable")
    first = fast(env, *FLAGS)
    assert first.returncode == 0, first.stderr
    assert fast(env, *FLAGS).stdout == first.stdout and rgw_sts.exchanges == 1
    env["BEARER_TOKEN"] = make_jwt(sub="someone-else")  # another token: another entry
    assert fast(env, *FLAGS).stdout != first.stdout and rgw_sts.exchanges == 2


def test_the_handover_imports_nothing_from_the_callers_directory(cli_env, tmp_path):
    """aws, pyarrow or DuckDB run credential_process in the user's working directory:
    a json.py or an infnminio_boto/ there, or on PYTHONPATH, must never run."""
    marker = tmp_path / "pwned"
    hostile = tmp_path / "project"
    (hostile / "infnminio_boto").mkdir(parents=True)
    planted = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for name in ("json.py", "argparse.py", "infnminio_boto/__init__.py", "urllib3.py"):
        (hostile / name).write_text(planted)
    env = dict(cli_env, PYTHONPATH=str(hostile))
    done = subprocess.run(
        [sys.executable, "-I", "-S", ENTRY_SCRIPT, *FLAGS],  # a miss: the handover runs
        cwd=hostile,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    assert not marker.exists(), marker.read_text()


def test_a_fifo_as_the_token_file_is_refused_at_once(cli_env, tmp_path):
    fifo = tmp_path / "fifo-token"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-I", "-S", ENTRY_SCRIPT, *FLAGS],
        env=dict(cli_env, INFNMINIO_TOKEN_FILE=str(fifo)),
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails here
    )
    assert done.returncode == 4 and "FIFO" in done.stderr


def test_keys_the_store_refused_are_retired_from_the_fast_entries(cli_env, rgw_sts):
    """After the store refuses keys as expired, session() renews them; the fast entry kept
    handing the refused keys to pyarrow, DuckDB and the AWS CLI for up to ~45 minutes."""
    from infnminio_boto.keys.fetch import fetch_credentials
    from infnminio_boto.settings import Settings
    from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

    full = run_cli("credential-process", *FLAGS, env=cli_env)
    refused = json.loads(full.stdout)["AccessKeyId"]
    assert fastpath.answer(FLAGS, environ_of(cli_env)) == full.stdout.encode()
    settings = Settings.resolve(environ=cli_env, role_session_name="fast-test")
    old = TemporaryCredentials(refused, "x", "y", datetime.now(timezone.utc))
    renewed = fetch_credentials(settings, refused=old)  # what replace_refused does
    assert renewed.access_key != refused
    answer = fastpath.answer(FLAGS, environ_of(cli_env))
    assert answer is None or refused.encode() not in answer  # hands over, or the new keys
    again = fast(cli_env, *FLAGS)
    assert again.returncode == 0 and json.loads(again.stdout)["AccessKeyId"] != refused
