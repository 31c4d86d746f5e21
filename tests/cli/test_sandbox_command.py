"""`infnminio-boto sandbox start|status|token|stop` as a user runs them in a shell."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest

from infnminio_boto.integrations.ca_trust import CA_BUNDLE_VARIABLES

pytestmark = pytest.mark.sandbox

COMMAND = [sys.executable, "-m", "infnminio_boto.cli"]


def run(*args, env=None, check=True):
    done = subprocess.run([*COMMAND, *args], capture_output=True, text=True, env=env, timeout=240)
    if check and done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}: {done.stderr}")
    return done


@pytest.fixture
def sandbox_dir():
    directory = f"/tmp/imb-cli-{os.getpid()}"
    yield directory
    run("sandbox", "stop", "--dir", directory, check=False)


def test_start_eval_use_status_token_stop(sandbox_dir, tmp_path):
    if shutil.which("radosgw") is None and not os.environ.get("CI"):
        pytest.skip("Ceph is not installed")
    started = run("sandbox", "start", "--dir", sandbox_dir)
    lines = started.stdout.strip().splitlines()
    assert lines and all(line.startswith("export ") for line in lines)
    exported = dict(shlex.split(line)[1].split("=", 1) for line in lines)
    assert {k for k in exported if not k.startswith("INFNMINIO_")} == set(CA_BUNDLE_VARIABLES)
    bundles = {exported[name] for name in CA_BUNDLE_VARIABLES}
    assert len(bundles) == 1 and bundles.pop().startswith(sandbox_dir + "/")
    assert "Sandbox up" in started.stderr  # human notes go to stderr only

    # eval "$(infnminio-boto sandbox start)" then the library with no arguments
    script = tmp_path / "use.sh"
    script.write_text(
        f'eval "$({" ".join(COMMAND)} sandbox start --dir {sandbox_dir} 2>/dev/null)"\n'
        f'{sys.executable} -c "import infnminio_boto; '
        "s3 = infnminio_boto.session().client('s3'); s3.create_bucket(Bucket='from-shell'); "
        "print(sorted(b['Name'] for b in s3.list_buckets()['Buckets']))\"\n"
    )
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("INFNMINIO_")}
    used = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, env=clean_env, timeout=120
    )
    assert used.returncode == 0, used.stderr
    assert "from-shell" in used.stdout

    status = run("sandbox", "status", "--dir", sandbox_dir)
    assert "answering" in status.stdout

    token = run("sandbox", "token", "--dir", sandbox_dir, "--subject", "bob", "--lifetime", "60")
    assert token.stdout.count(".") == 2

    stopped = run("sandbox", "stop", "--dir", sandbox_dir, env={**os.environ, **exported})
    assert not os.path.exists(sandbox_dir)
    assert "AWS_CA_BUNDLE, SSL_CERT_FILE" in stopped.stderr  # they name a removed file now
    after = run("sandbox", "status", "--dir", sandbox_dir, check=False)
    assert after.returncode == 7
    assert "No sandbox" in after.stderr


def test_stop_without_a_sandbox_is_harmless(tmp_path):
    done = run("sandbox", "stop", "--dir", str(tmp_path / "none"))
    assert "nothing to stop" in done.stderr


@pytest.mark.parametrize("reader", ["bash", "fish", "json"])
def test_start_output_gives_each_shell_the_directory_as_given(reader, tmp_path):
    """`sandbox start --dir DIR --format sh|fish|json`: DIR is the user's and reaches the
    shell unchanged, whatever it holds."""
    from support.shells import source

    from infnminio_boto.cli.sandbox import exports
    from infnminio_boto.sandbox import Sandbox

    marker = tmp_path / "ran"
    directory = tmp_path / f"it's $(touch {marker}) `touch {marker}` é\nx\\"
    directory.mkdir(parents=True)
    from infnminio_boto.sandbox.tls import make_certificates

    authority = make_certificates(directory).ca  # a real PEM: environment() combines it
    sandbox = Sandbox(directory)
    sandbox.state = {"endpoint": "https://127.0.0.1:8443", "ca_bundle": str(authority)}
    expected = sandbox.environment()
    text = exports(expected, "sh" if reader == "bash" else reader)
    if reader == "json":
        got = {k: v.encode() for k, v in json.loads(text).items()}
    else:
        got = source(reader, text, tmp_path, {"PATH": os.environ["PATH"]})
    assert not marker.exists(), "the directory's name ran a command"
    for name, value in expected.items():
        assert got[name] == value.encode(), name


def test_the_laptop_path_on_the_sandbox_is_one_command_then_configure(
    infnminio_sandbox, tmp_path
):
    """`sandbox oidc-agent` starts an agent with an account on the sandbox's issuer; a
    profile written with `configure --oidc-agent-account` then gets keys through it."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INFNMINIO_", "AWS_"))},
        **infnminio_sandbox.environment(),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
    }
    env.pop("INFNMINIO_TOKEN_FILE")  # the agent is the token's source here
    started = run("sandbox", "oidc-agent", "--account", "laptop", env=env)
    [line] = started.stdout.strip().splitlines()
    name, value = shlex.split(line)[1].split("=", 1)
    assert name == "OIDC_SOCK" and "configure --oidc-agent-account laptop" in started.stderr
    env[name] = value
    run("configure", "--oidc-agent-account", "laptop", env=env)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    listed = subprocess.run(
        [aws, "--profile", "infnminio-boto", "s3", "ls"], capture_output=True, text=True,
        env=env, timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
