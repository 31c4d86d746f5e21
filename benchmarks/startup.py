"""Start-up costs: the cached credential_process, imports, session(), the AWS CLI."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from measure import base_env, paired, start_sandbox, timing_row
from support.fake_sts import FakeSts
from support.jwt_helpers import make_jwt

PYTHON = sys.executable
SCRIPT = str(Path(PYTHON).parent / "infnminio-boto")
ROLE = "arn:aws:iam:::role/IAMaccess"


def _configured_command(env: dict, *flags: str) -> list:
    """The credential_process line `configure` writes (with ``flags``), as an argument list."""
    profile = "bench" + "".join(flags).replace("-", "").replace(" ", "")
    subprocess.run([SCRIPT, "configure", "--profile", profile, *flags], env=env, check=True,
                   capture_output=True)
    lines = Path(env["AWS_CONFIG_FILE"]).read_text().splitlines()
    start = lines.index(f"[profile {profile}]")
    for line in lines[start + 1 :]:
        if line.startswith("credential_process = "):
            return shlex.split(line.split(" = ", 1)[1])
    raise AssertionError("configure wrote no credential_process")


def credential_process(work: Path, runs: int) -> None:
    print("credential_process start-up", flush=True)
    token = work / "token"
    token.write_text(make_jwt())
    with FakeSts("rgw") as sts:
        env = base_env(
            str(work),
            INFNMINIO_ENDPOINT=sts.url,
            INFNMINIO_TOKEN_FILE=str(token),
            INFNMINIO_ROLE_ARN=ROLE,
            INFNMINIO_CACHE_DIR=str(work / "cache"),
        )
        fast = _configured_command(env)
        subprocess.run(fast, env=env, capture_output=True, check=True)  # fills the cache
        isolated = paired(fast, [PYTHON, "-I", "-S", "-c", "pass"], runs, env)
        limited = _configured_command(env, "--policy", "read-only")
        subprocess.run(limited, env=env, capture_output=True, check=True)
        with_policy = paired(limited, [PYTHON, "-I", "-S", "-c", "pass"], runs, env)
        bare = paired(fast, [PYTHON, "-c", "pass"], runs, env)
        cached = [SCRIPT, "credential-process"]
        subprocess.run(cached, env=env, capture_output=True, check=True)
        cold = paired(cached, [SCRIPT, "credential-process", "--no-cache"], max(5, runs // 3), env)
    timing_row(
        "credential_process answered from the cache (the profile `configure` writes) vs "
        "`python -I -S -c pass`",
        isolated,
        "python -I -S -c pass (baseline)",
        baseline=True,
    )
    timing_row(
        "the same with a session policy (`configure --policy read-only`) vs "
        "`python -I -S -c pass`",
        with_policy,
        "python -I -S -c pass (baseline)",
        baseline=True,
    )
    timing_row(
        "the same (no policy) vs a bare `python -c pass`",
        bare,
        "python -c pass (baseline)",
        baseline=True,
    )
    timing_row(
        "`infnminio-boto credential-process` from the cache vs the cold path (exchange with "
        "a local fake STS)",
        cold,
        "cold path",
    )


def imports(work: Path, runs: int) -> None:
    print("import and session() cost", flush=True)
    env = base_env(str(work))
    timing_row(
        "`import infnminio_boto` vs `import boto3` (process wall time)",
        paired([PYTHON, "-c", "import infnminio_boto"], [PYTHON, "-c", "import boto3"], runs, env),
        "import boto3",
    )
    ours = "import infnminio_boto; infnminio_boto.session(endpoint='https://s3.example.org')"
    timing_row(
        "`infnminio_boto.session()` vs `boto3.Session()` (process wall time, imports included)",
        paired([PYTHON, "-c", ours], [PYTHON, "-c", "import boto3; boto3.Session()"], runs, env),
        "boto3.Session()",
    )


def aws_cli(work: Path, runs: int) -> None:
    print("aws s3 ls against the sandbox", flush=True)
    import infnminio_boto
    sandbox = start_sandbox()
    if sandbox is None:
        return
    try:
        env = base_env(
            str(work), INFNMINIO_CACHE_DIR=str(work / "cli-cache"), **sandbox.environment()
        )
        subprocess.run(
            [SCRIPT, "configure", "--profile", "bench"], env=env, check=True, capture_output=True
        )
        s3 = infnminio_boto.session(**sandbox.settings()).client("s3")
        s3.create_bucket(Bucket="bench")
        keys = infnminio_boto.credentials(**sandbox.settings())
        static_home = work / "static"
        static_home.mkdir(exist_ok=True)
        static_env = base_env(
            str(static_home),
            AWS_ACCESS_KEY_ID=keys.access_key,
            AWS_SECRET_ACCESS_KEY=keys.secret_key,
            AWS_SESSION_TOKEN=keys.token,
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL_S3=sandbox.endpoint,
            # The same trust as the profile's run: sandbox.environment() puts the
            # sandbox's combined bundle (the system's authorities and the sandbox's) in
            # AWS_CA_BUNDLE, which the AWS CLI prefers to the profile's ca_bundle, and
            # OpenSSL 3 takes tens of milliseconds to load 145 certificates where one
            # takes half a millisecond: different bundles would time the bundles.
            AWS_CA_BUNDLE=env.get("AWS_CA_BUNDLE", sandbox.ca_bundle),
        )
        listing = ["s3", "ls", "s3://bench"]
        result = paired(
            ["aws", "--profile", "bench", *listing], ["aws", *listing], runs, env, static_env
        )
        timing_row(
            "`aws s3 ls` through our credential_process profile vs static keys in the "
            "environment (real RGW over https)",
            result,
            "static keys",
        )
    finally:
        sandbox.stop()
