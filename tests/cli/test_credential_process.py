"""`infnminio-boto credential-process`: the JSON contract, exit codes, the shared cache."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import datetime, timezone

import pytest
from support.cli import COMMAND, clean_environment, run_cli
from support.fake_sts import FakeSts, Fault
from support.jwt_helpers import make_jwt, write_in_place

import infnminio_boto


def parse_stdout(done) -> dict:
    """stdout must be exactly one JSON document."""
    document = json.loads(done.stdout)
    assert done.stdout.strip().count("\n") == 0
    return document


def test_prints_exactly_the_credential_process_json(cli_env, rgw_sts):
    done = run_cli("credential-process", env=cli_env)
    assert done.returncode == 0, done.stderr
    document = parse_stdout(done)
    assert set(document) == {
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    }
    assert document["Version"] == 1
    issued = rgw_sts.issued[document["AccessKeyId"]]
    assert document["SecretAccessKey"] == issued.secret_key
    assert document["SessionToken"] == issued.session_token
    assert document["Expiration"] == issued.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert done.stderr == ""


def test_answered_from_the_cache_until_it_is_too_old(cli_env, rgw_sts):
    first = parse_stdout(run_cli("credential-process", env=cli_env))
    second = parse_stdout(run_cli("credential-process", env=cli_env))
    assert first == second and rgw_sts.exchanges == 1
    parse_stdout(run_cli("credential-process", "--no-cache", env=cli_env))
    assert rgw_sts.exchanges == 2


def test_flags_mirror_the_settings(tmp_path, rgw_sts, token_file):
    env = clean_environment(HOME=str(tmp_path), INFNMINIO_CACHE_DIR=str(tmp_path / "c"))
    done = run_cli(
        "credential-process",
        "--endpoint",
        rgw_sts.url,
        f"--token-file={token_file}",
        "--role-arn",
        "arn:aws:iam:::role/IAMaccess",
        "--role-session-name",
        "job-42",
        "--duration-seconds",
        "1800",
        "--region",
        "eu-1",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    form = rgw_sts.requests[-1].form
    assert form["RoleSessionName"] == "job-42" and form["DurationSeconds"] == "1800"


def test_sixteen_processes_with_an_empty_cache_make_one_exchange(cli_env):
    with FakeSts("rgw", exchange_delay=0.5) as slow_sts:
        env = dict(cli_env, INFNMINIO_ENDPOINT=slow_sts.url)
        processes = [
            subprocess.Popen(
                [*COMMAND, "credential-process"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(16)
        ]
        outputs = [process.communicate(timeout=120) for process in processes]
        assert all(p.returncode == 0 for p in processes), [o[1] for o in outputs]
        keys = {json.loads(out)["AccessKeyId"] for out, _ in outputs}
        assert len(keys) == 1
        assert slow_sts.exchanges == 1


def test_the_library_shares_the_cache(cli_env, rgw_sts, tmp_path):
    parse_stdout(run_cli("credential-process", env=cli_env))
    snapshot = infnminio_boto.credentials(
        endpoint=rgw_sts.url,
        token_file=cli_env["INFNMINIO_TOKEN_FILE"],
        role_arn="arn:aws:iam:::role/IAMaccess",
        cache_dir=cli_env["INFNMINIO_CACHE_DIR"],
    )
    assert rgw_sts.exchanges == 1
    assert snapshot.access_key in rgw_sts.issued


def test_only_json_on_stdout_even_with_warnings(cli_env, rgw_sts, tmp_path):
    # a corrupt cache entry and STS hiccups all produce warnings
    parse_stdout(run_cli("credential-process", env=cli_env))
    cache_dir = tmp_path / "cache"
    for entry in cache_dir.glob("*.json"):
        entry.write_text("{not json")
    rgw_sts.script(Fault(503, b""))
    done = run_cli("credential-process", "-v", env=cli_env)
    assert done.returncode == 0, done.stderr
    parse_stdout(done)
    assert "Ignoring cache entry" in done.stderr
    assert "HTTP 503" in done.stderr


def test_keys_shorter_than_asked_are_handed_out_once_per_lifetime(tmp_path, token_file):
    """MinIO caps the keys at the token's expiry: 10-minute keys, though an hour was asked.

    They are the freshest the server gives: three calls in a row make one exchange, and
    the note names what limits the lifetime rather than a setting that is already right.
    """
    from support.cli import clean_environment
    from support.fake_sts import FakeSts

    with FakeSts("minio", credential_lifetime=600) as sts:
        env = clean_environment(
            HOME=str(tmp_path / "home"),
            INFNMINIO_ENDPOINT=sts.url,
            INFNMINIO_TOKEN_FILE=token_file,
            INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
        )
        answers = [parse_stdout(run_cli("credential-process", "-v", env=env)) for _ in range(3)]
        noted = run_cli("credential-process", "-v", env=env).stderr
    assert sts.exchanges == 1
    assert len({answer["AccessKeyId"] for answer in answers}) == 1
    assert "keys for 10 minutes though duration_seconds asks 3600 s" in noted
    assert "MinIO caps" in noted and "raise duration_seconds" not in noted


def test_cached_answer_imports_no_boto3_botocore_or_urllib3(cli_env):
    parse_stdout(run_cli("credential-process", env=cli_env))
    probe = (
        "import sys\nfrom infnminio_boto.cli import main\nrc = main(['credential-process'])\n"
        "heavy = [m for m in ('boto3', 'botocore', 'urllib3', 'xmltodict', 'argparse', "
        "'logging') if m in sys.modules]\nsys.stderr.write('HEAVY=' + ','.join(heavy))\n"
        "sys.exit(rc)\n"
    )
    import sys as _sys

    done = subprocess.run(
        [_sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "HEAVY="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "case, code, phrase",
    [
        ("usage", 2, "unrecognized arguments"),
        ("configuration", 3, "INFNMINIO_DURATION_SECONDS"),
        ("token-missing", 4, "does not exist"),
        ("token-expired", 4, "expired"),
        ("sts-refused", 5, "AccessDenied"),
        ("sts-unreachable", 6, "connection refused"),
    ],
)
def test_exit_codes_and_one_line_messages(cli_env, rgw_sts, tmp_path, case, code, phrase):
    env = dict(cli_env)
    args = ["credential-process"]
    if case == "usage":
        args.append("--bogus")
    elif case == "configuration":
        env["INFNMINIO_DURATION_SECONDS"] = "a while"
    elif case == "token-missing":
        env["INFNMINIO_TOKEN_FILE"] = str(tmp_path / "nope")
    elif case == "token-expired":
        write_in_place(env["INFNMINIO_TOKEN_FILE"], make_jwt(lifetime=-300))
    elif case == "sts-refused":
        write_in_place(env["INFNMINIO_TOKEN_FILE"], make_jwt(aud="wrong-audience"))
    elif case == "sts-unreachable":
        env.update(INFNMINIO_ENDPOINT=f"http://127.0.0.1:{free_port()}", INFNMINIO_MAX_ATTEMPTS="1")
    done = run_cli(*args, env=env)
    assert done.returncode == code, done.stderr
    assert done.stdout == ""
    assert phrase in done.stderr
    if code != 2:
        assert done.stderr.count("\n") == 1  # one line
        assert "Traceback" not in done.stderr


def test_expired_token_with_valid_cached_keys_still_works(cli_env, rgw_sts):
    """sts-wire down for a moment: the keys in the cache are still good to hand out."""
    parse_stdout(run_cli("credential-process", env=cli_env))
    write_in_place(cli_env["INFNMINIO_TOKEN_FILE"], make_jwt(lifetime=-60))
    done = run_cli("credential-process", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert parse_stdout(done)["AccessKeyId"] in rgw_sts.issued
    assert rgw_sts.exchanges == 1


def test_expiration_format(cli_env):
    document = parse_stdout(run_cli("credential-process", env=cli_env))
    parsed = datetime.strptime(document["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    assert parsed.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
