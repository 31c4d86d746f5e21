"""`infnminio-boto doctor`: every link checked, a clear FAIL and exit code where it breaks."""

from __future__ import annotations

import pytest
from support.cli import clean_environment, run_cli
from support.jwt_helpers import make_jwt, write_in_place


@pytest.mark.sandbox
def test_all_ok_against_the_sandbox(infnminio_sandbox, tmp_path):
    env = clean_environment(HOME=str(tmp_path), **infnminio_sandbox.environment())
    done = run_cli("doctor", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    topics = [line.split()[1] for line in lines]
    for topic in ("endpoint", "tls", "token", "exchange", "lifetime", "s3", "cache"):
        assert topic in topics
    tls = next(line for line in lines if line.split()[1] == "tls")
    assert "https; certificate issued by" in tls and "sandbox authority" in tls
    assert f"trusted by {infnminio_sandbox.ca_bundle}" in tls
    assert all(line.startswith(("OK", "WARN")) for line in lines)
    assert "INFNMINIO_TOKEN_FILE" in done.stdout  # says why this token file
    assert "subject sandbox-user" in done.stdout


def test_missing_token_file(cli_env, tmp_path):
    cli_env["INFNMINIO_TOKEN_FILE"] = str(tmp_path / "missing")
    done = run_cli("doctor", env=cli_env)
    assert done.returncode == 4
    assert "FAIL  token source" in done.stdout and "does not exist" in done.stdout


def test_expired_token(cli_env):
    write_in_place(cli_env["INFNMINIO_TOKEN_FILE"], make_jwt(lifetime=-3600))
    done = run_cli("doctor", env=cli_env)
    assert done.returncode == 4
    assert "FAIL  token" in done.stdout and "60 minutes ago" in done.stdout


def test_refused_exchange(cli_env):
    write_in_place(cli_env["INFNMINIO_TOKEN_FILE"], make_jwt(aud="wrong-audience"))
    done = run_cli("doctor", env=cli_env)
    assert done.returncode == 5
    assert "FAIL  exchange" in done.stdout and "AccessDenied" in done.stdout


def test_s3_refused(cli_env, rgw_sts):
    rgw_sts.s3_deny = True
    done = run_cli("doctor", env=cli_env)
    assert done.returncode == 8
    assert "OK    exchange" in done.stdout and "FAIL  s3" in done.stdout


def test_short_credentials_are_warned_about(cli_env):
    done = run_cli("doctor", env=dict(cli_env, INFNMINIO_DURATION_SECONDS="900"))
    assert done.returncode == 0, done.stdout
    assert "WARN  lifetime" in done.stdout


@pytest.mark.parametrize(
    ("offset", "words"), [(20 * 60, "20 min behind"), (-5 * 60, "5 min ahead of")]
)
def test_a_clock_off_the_stores_is_warned_about(cli_env, offset, words):
    from support.fake_sts import FakeSts

    with FakeSts("rgw", clock_offset=offset) as server:
        done = run_cli("doctor", env=dict(cli_env, INFNMINIO_ENDPOINT=server.url))
    assert done.returncode == 0, done.stdout
    clock = next(line for line in done.stdout.splitlines() if line.split()[1] == "clock")
    assert clock.startswith("WARN") and words in clock and "NTP" in clock
    assert ("RequestTimeTooSkewed" in clock) is (abs(offset) > 15 * 60)


def test_a_clock_in_step_with_the_stores_is_ok(cli_env):
    done = run_cli("doctor", env=cli_env)
    assert "OK    clock" in done.stdout and "agrees with the store's" in done.stdout


def test_a_role_allowing_less_than_asked_is_warned_about(cli_env):
    done = run_cli("doctor", env=dict(cli_env, INFNMINIO_DURATION_SECONDS="7200"))
    assert done.returncode == 0, done.stdout
    lifetime = next(line for line in done.stdout.splitlines() if line.split()[1] == "lifetime")
    assert lifetime.startswith("WARN") and "INFNMINIO_DURATION_SECONDS" in lifetime
    assert "to 3600" in lifetime


@pytest.mark.sandbox
def test_an_untrusted_certificate_fails_the_tls_check_as_json(infnminio_sandbox, tmp_path):
    import json

    env = clean_environment(HOME=str(tmp_path), **infnminio_sandbox.environment())
    del env["INFNMINIO_CA_BUNDLE"]
    done = run_cli("doctor", "--json", env=env)
    assert done.returncode == 6, done.stdout + done.stderr
    checks = {c["check"]: c for c in json.loads(done.stdout)}
    tls = checks["tls"]
    assert tls["status"] == "FAIL" and tls["exit_code"] == 6
    assert "not trusted" in tls["detail"]
    assert "INFNMINIO_CA_BUNDLE" in tls["detail"]
    # Who issued it is read with cryptography, whichever release the extra allows (41+).
    assert "issued by CN=infnminio-boto sandbox authority" in tls["detail"]
    # Every link it can check is checked after a FAIL: the token is fine; the exchange,
    # which cannot be tried, points at the check that failed.
    assert checks["token"]["status"] == "OK" and checks["cache"]["status"] == "OK"
    assert checks["exchange"]["status"] == "WARN"
    assert checks["exchange"]["detail"].endswith("(see tls)")


@pytest.mark.sandbox
def test_doctor_profile_checks_what_the_aws_tools_will_run(infnminio_sandbox, tmp_path):
    """In a shell with no INFNMINIO_* variable (an AWS CLI user's), `doctor --profile NAME`
    takes the settings from the profile's credential_process, and runs it as the AWS tools
    do; a profile that would send requests to AWS is a FAIL naming the command that mends
    that profile, and nothing is sent."""
    import json

    home = tmp_path / "home"
    home.mkdir()
    config = home / "aws-config"
    configured = clean_environment(HOME=str(home), AWS_CONFIG_FILE=str(config),
                                   **infnminio_sandbox.environment())
    assert run_cli("configure", "--profile", "lab", env=configured).returncode == 0
    shell = clean_environment(HOME=str(home), AWS_CONFIG_FILE=str(config),
                              AWS_CA_BUNDLE=infnminio_sandbox.ca_bundle)
    done = run_cli("doctor", "--profile", "lab", "--json", env=shell)
    checks = {c["check"]: c for c in json.loads(done.stdout)}
    assert done.returncode == 0, done.stdout
    assert infnminio_sandbox.endpoint in checks["endpoint"]["detail"]
    assert checks["exchange"]["status"] == "OK" and checks["profile"]["status"] == "OK"
    assert f"ListBuckets at {infnminio_sandbox.endpoint} answered" in checks["profile"]["detail"]

    text = config.read_text()
    config.write_text("\n".join(line for line in text.splitlines()
                                if not line.startswith("endpoint_url")) + "\n")
    done = run_cli("doctor", "--profile", "lab", env=shell)
    assert done.returncode == 3, done.stdout
    line = next(line for line in done.stdout.splitlines() if line.split()[1] == "profile")
    assert line.startswith("FAIL") and "`infnminio-boto configure --profile lab`" in line
    assert "amazonaws" not in done.stdout + done.stderr

    done = run_cli("doctor", "--profile", "nowhere", env=shell)
    assert "`infnminio-boto configure --profile nowhere`" in done.stdout
