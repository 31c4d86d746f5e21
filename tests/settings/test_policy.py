"""The policy setting: what is refused before anything is sent, what is sent, and that
keys of different session policies never stand in for one another.

What each preset lets the keys do is tested against the real Ceph RGW in
tests/sandbox/test_policy_rgw.py; here the fake STS records what arrives.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from support.cli import run_cli
from support.fake_sts import Fault, rgw_error_xml
from support.jwt_helpers import make_jwt, write_in_place

import infnminio_boto
from infnminio_boto import ConfigurationError, StsError
from infnminio_boto.integrations import key_server
from infnminio_boto.keys import fastpath
from infnminio_boto.keys import shared as shared_keys
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.profiles.aws import credential_process_command
from infnminio_boto.settings import Settings
from infnminio_boto.settings.policy import MAX_POLICY_BYTES
from infnminio_boto.sources.file import FileSource
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

READ_GET = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}],
}


@pytest.fixture(autouse=True)
def _nothing_shared(monkeypatch):
    monkeypatch.setattr(shared_keys, "_shared", None)
    monkeypatch.setattr(shared_keys, "_shared_policy", None)
    monkeypatch.setattr(shared_keys, "_sources", [])
    monkeypatch.setattr(key_server, "_server", None)


def resolve(policy, **extra) -> Settings:
    return Settings.resolve(
        endpoint="https://s3.example.org", server_kind="rgw", policy=policy, environ={}, **extra
    )


def statement(**fields) -> dict:
    base = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base.update(fields)
    return {"Version": "2012-10-17", "Statement": [base]}


# ------------------------------------------------------------------ refused locally


@pytest.mark.parametrize(
    "document, says",
    [
        ({"Version": "2012-10-17", "Statement": []}, "no Statement"),
        ({}, "no Statement"),
        ({"Version": "1999-01-01", "Statement": READ_GET["Statement"]}, "Version"),
        (dict(READ_GET, Foo=1), "unknown top-level element 'Foo'"),
        (statement(Effect="Maybe"), "Effect must be Allow or Deny"),
        (statement(Action="ec2:RunInstances"), "'ec2:RunInstances' is not"),
        (statement(Action=[]), "Action must be a string or a list"),
        (statement(Resource="bucket"), "'bucket' is not '*' or an S3 ARN"),
        (statement(Condition={"FooEquals": {"s3:prefix": "a/"}}), "'FooEquals'"),
        (statement(Condition={"ForAnyValue:NumericEquals": {"x": 1}}), "NumericEquals"),
        (statement(Condition={"StringLike": "a/*"}), "must map keys to values"),
        (statement(Sids="x"), "unknown element 'Sids'"),
        ([READ_GET], "not a JSON object"),
    ],
)
def test_a_document_rgw_would_refuse_is_a_configuration_error(document, says):
    with pytest.raises(ConfigurationError, match="from the policy argument") as raised:
        resolve(json.dumps(document))
    assert says in str(raised.value)


def test_notaction_is_refused_since_rgw_16_never_matches_it():
    """RGW 16 accepts NotAction and ignores it: a Deny NotAction would deny nothing."""
    document = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
        ]
    }
    with pytest.raises(ConfigurationError, match="NotAction.*never matches"):
        resolve(json.dumps(document))


def test_a_document_that_is_not_json_names_the_variable_and_sends_nothing(
    rgw_sts, settings_for, monkeypatch
):
    monkeypatch.setenv("INFNMINIO_POLICY", '{"Statement": [')
    with pytest.raises(ConfigurationError, match="INFNMINIO_POLICY.*not valid JSON"):
        infnminio_boto.credentials(**settings_for(rgw_sts))
    assert rgw_sts.exchanges == 0


def test_the_size_limit_counts_the_compact_document():
    resources = [f"arn:aws:s3:::bucket-{n:03d}/*" for n in range(60)]
    document = statement(Resource=resources)
    compact = len(json.dumps(document, separators=(",", ":")))
    assert compact < MAX_POLICY_BYTES < len(json.dumps(document, indent=4))
    assert resolve(json.dumps(document, indent=4)).policy.size == compact  # fits once compact
    too_big = statement(Resource=resources + [f"arn:aws:s3:::more-{n:03d}" for n in range(30)])
    with pytest.raises(ConfigurationError, match="bytes once compacted.*at most 2048"):
        resolve(json.dumps(too_big))


def test_non_ascii_counts_as_utf8_not_as_escapes():
    policy = resolve("prefix:data/ricerche-più").policy
    assert "più" in policy.document and policy.size == len(policy.document.encode())


@pytest.mark.parametrize(
    "value, says",
    [
        ("readonly", "not a preset"),
        ("bucket:", "bucket name"),
        ("bucket:data/*", "bucket name"),
        ("read-only:a*", "bucket name"),
        ("prefix:data", "names no path"),
        ("prefix:data/", "names no path"),
        ("prefix:data/runs/*", "wildcards"),
        ("@", "no file name"),
    ],
)
def test_a_malformed_preset_says_how_to_write_it(value, says):
    with pytest.raises(ConfigurationError, match=says):
        resolve(value)


def test_a_policy_file_is_read_and_its_problems_name_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "get.json").write_text(json.dumps(READ_GET, indent=2))
    policy = resolve("@get.json").policy
    assert policy.name == f"@{tmp_path / 'get.json'}" and json.loads(policy.document) == READ_GET
    with pytest.raises(ConfigurationError, match=f"{tmp_path / 'missing.json'}.*cannot be read"):
        resolve("@missing.json")
    (tmp_path / "bad.json").write_text('{"Statement": {"Effect": "Allow"}}')
    with pytest.raises(ConfigurationError, match="bad.json.*has no Action"):
        resolve("@bad.json")


def test_an_empty_argument_means_no_policy_over_the_variable():
    settings = Settings.resolve(
        endpoint="https://s3.example.org", policy="", environ={"INFNMINIO_POLICY": "read-only"}
    )
    assert settings.policy is None and settings.origin("policy") == "the policy argument"


# ------------------------------------------------------------------ what is sent


def test_the_policy_is_sent_compact_and_only_when_set(rgw_sts, settings_for):
    infnminio_boto.credentials(**settings_for(rgw_sts, cache=False))
    document = json.dumps(READ_GET, indent=2)
    infnminio_boto.credentials(**settings_for(rgw_sts, cache=False, policy=document))
    without, with_policy = (request.form for request in rgw_sts.requests)
    assert "Policy" not in without
    sent = with_policy["Policy"]
    assert json.loads(sent) == READ_GET and " " not in sent and "\n" not in sent


# ------------------------------------------------------------------ cache and sharing


def test_keys_of_different_policies_are_cached_apart(rgw_sts, settings_for, tmp_path):
    base = settings_for(rgw_sts, cache_dir=str(tmp_path / "cache"))
    full = infnminio_boto.credentials(**base)
    read_only = infnminio_boto.credentials(**base, policy="read-only")
    assert read_only.access_key != full.access_key  # neither handed the other's keys
    assert infnminio_boto.credentials(**base, policy="read-only") == read_only
    assert infnminio_boto.credentials(**base) == full
    bucket = infnminio_boto.credentials(**base, policy="bucket:data")
    assert bucket.access_key not in (full.access_key, read_only.access_key)
    assert rgw_sts.successful_exchanges == 3


def keys(seconds: float = 900) -> TemporaryCredentials:
    return TemporaryCredentials(
        "AKSHARED", "secret", "session", datetime.now(timezone.utc) + timedelta(seconds=seconds)
    )


def worker_settings(tmp_path, policy=None) -> Settings:
    """Settings of a worker on another machine: no token file there."""
    return Settings.resolve(
        endpoint="https://s3.example.org",
        role_arn="arn:r",
        token_file=str(tmp_path / "none"),
        cache=False,
        policy=policy,
        environ={},
    )


def test_a_worker_never_serves_full_shared_keys_to_a_call_asking_for_a_policy(tmp_path):
    shared_keys.receive((shared_keys.identity(worker_settings(tmp_path)), "id"), keys())
    with pytest.raises(ConfigurationError, match="policy='read-only'"):
        fetch_credentials(worker_settings(tmp_path, "read-only"))


def test_a_worker_serves_its_policy_limited_keys_to_a_call_asking_for_none(tmp_path):
    limited = worker_settings(tmp_path, "read-only")
    shared_keys.receive((shared_keys.identity(limited), "id"), keys(), limited.policy)
    assert fetch_credentials(worker_settings(tmp_path)).access_key == "AKSHARED"
    assert fetch_credentials(limited).access_key == "AKSHARED"
    assert shared_keys.policy_in_force(worker_settings(tmp_path)) == limited.policy
    with pytest.raises(ConfigurationError, match="bucket:data"):
        fetch_credentials(worker_settings(tmp_path, "bucket:data"))


def test_the_sharing_clients_own_calls_keep_their_own_keys(rgw_sts, settings_for, token_file):
    """share_credentials(client, policy=...) provides the workers' read-only keys in the
    client's process; a call there without the policy exchanges for its own."""
    full = Settings.resolve(**settings_for(rgw_sts, cache=False))
    limited = Settings.resolve(**settings_for(rgw_sts, cache=False, policy="read-only"))
    digest = FileSource(token_file).read().identity_digest()
    shared_keys.provide(shared_keys.owner(limited, digest), keys)
    assert fetch_credentials(limited).access_key == "AKSHARED"
    assert fetch_credentials(full).access_key in rgw_sts.issued
    assert "Policy" not in rgw_sts.requests[-1].form


# ------------------------------------------------------------------ the fast path


def test_the_fast_path_keys_a_policy_file_on_its_content(cli_env, rgw_sts, tmp_path):
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(READ_GET))
    flags = ["--policy", f"@{policy_file}"]
    environ = {k: v for k, v in cli_env.items() if k.startswith("INFNMINIO_")}
    environ["HOME"] = cli_env["HOME"]
    full = run_cli("credential-process", *flags, env=cli_env)
    assert full.returncode == 0, full.stderr
    assert fastpath.answer(flags, environ) == full.stdout.encode()
    policy_file.write_text(json.dumps(statement(Action="s3:ListBucket")))
    assert fastpath.answer(flags, environ) is None  # another policy: the full command
    again = run_cli("credential-process", *flags, env=cli_env)
    assert json.loads(again.stdout)["AccessKeyId"] != json.loads(full.stdout)["AccessKeyId"]
    assert json.loads(rgw_sts.requests[-1].form["Policy"])["Statement"][0]["Action"] == (
        "s3:ListBucket"
    )


# ------------------------------------------------------------------ refusals explained


@pytest.mark.parametrize(
    "code, says",
    [
        ("MalformedPolicyDocument", "refused the session policy read-only .* as malformed"),
        ("PackedPolicyTooLarge", "session policy read-only .* too large once packed"),
    ],
)
def test_a_refused_policy_is_explained_as_the_policy_not_the_token(
    rgw_sts, settings_for, code, says
):
    rgw_sts.script(Fault(status=400, body=rgw_error_xml(code)))
    with pytest.raises(StsError, match=says) as raised:
        infnminio_boto.credentials(**settings_for(rgw_sts, policy="read-only"))
    assert "the token is not the problem" in str(raised.value)
    assert "from the policy argument" in str(raised.value)


def test_access_denied_under_a_policy_names_it(rgw_sts, settings_for, monkeypatch):
    monkeypatch.setenv("INFNMINIO_POLICY", "read-only")
    rgw_sts.s3_deny = True
    limited = infnminio_boto.session(**settings_for(rgw_sts)).client("s3")
    with pytest.raises(ClientError, match="session policy read-only .*INFNMINIO_POLICY"):
        limited.list_buckets()
    mine = boto3.Session()
    infnminio_boto.install(mine, **settings_for(rgw_sts))
    installed = mine.client("s3", **infnminio_boto.s3_client_kwargs(**settings_for(rgw_sts)))
    with pytest.raises(ClientError, match="session policy read-only"):
        installed.list_buckets()
    full = infnminio_boto.session(**settings_for(rgw_sts, policy="")).client("s3")
    with pytest.raises(ClientError) as plain:
        full.list_buckets()
    assert "policy" not in str(plain.value)


# ------------------------------------------------------------------ every entry point


def test_the_profile_reproduces_the_policy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.json").write_text(json.dumps(READ_GET))
    assert "--policy read-only" in credential_process_command(resolve("read-only"))
    assert f"--policy @{tmp_path / 'p.json'}" in credential_process_command(resolve("@p.json"))
    inline = credential_process_command(resolve(json.dumps(READ_GET, indent=1)))
    assert "--policy '" + json.dumps(READ_GET, separators=(",", ":")) + "'" in inline


def test_configure_writes_a_read_only_profile_beside_the_full_one(cli_env, tmp_path):
    config = tmp_path / "aws-config"
    env = dict(cli_env, AWS_CONFIG_FILE=str(config))
    assert run_cli("configure", "--profile", "infn", env=env).returncode == 0
    done = run_cli("configure", "--profile", "infn-ro", "--policy", "read-only", env=env)
    assert done.returncode == 0, done.stderr
    text = config.read_text()
    full, read_only = text.split("[profile infn-ro]")
    assert "--policy" not in full and "--policy read-only" in read_only


def test_env_and_exec_send_the_policy(cli_env, rgw_sts, token_file):
    write_in_place(token_file, make_jwt() + "\n")
    done = run_cli("env", "--format", "json", "--policy", "read-only:data", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(rgw_sts.requests[-1].form["Policy"])["Statement"][0]["Resource"] == [
        "arn:aws:s3:::data",
        "arn:aws:s3:::data/*",
    ]
    ran = run_cli("exec", "--policy", "bucket:data", "--", "true", env=cli_env)
    assert ran.returncode == 0, ran.stderr
    assert "arn:aws:s3:::data/*" in rgw_sts.requests[-1].form["Policy"]


@pytest.mark.parametrize("form", ["argument", "variable", "file", "dict"])
def test_a_policy_nested_thousands_deep_is_a_configuration_error_and_nothing_is_sent(
    form, rgw_sts, settings_for, tmp_path, monkeypatch
):
    """It was a RecursionError: exit 1, "internal error"."""
    deep = "[" * 5000 + "]" * 5000
    value: object = '{"Version": "2012-10-17", "Statement": ' + deep + "}"
    if form == "file":
        (tmp_path / "deep.json").write_text(str(value))
        value = f"@{tmp_path / 'deep.json'}"
    if form == "dict":
        nested: list = []
        for _ in range(5000):
            nested = [nested]
        value = {"Version": "2012-10-17", "Statement": nested}
    # A server without RGW's rules: the document reaches the JSON writer whole.
    settings = settings_for(rgw_sts, server_kind="generic")
    if form == "variable":
        monkeypatch.setenv("INFNMINIO_POLICY", str(value))
    else:
        settings["policy"] = value
    with pytest.raises(ConfigurationError, match="nested too deeply"):
        infnminio_boto.credentials(**settings)
    assert rgw_sts.exchanges == 0


def test_a_policy_that_holds_itself_is_a_configuration_error(rgw_sts, settings_for):
    """The depth is counted without recursion and bounded, so a cycle ends it too."""
    statements: list = []
    statements.append(statements)
    settings = settings_for(rgw_sts, server_kind="generic")
    settings["policy"] = {"Version": "2012-10-17", "Statement": statements}
    with pytest.raises(ConfigurationError, match="nested too deeply"):
        infnminio_boto.credentials(**settings)
    assert rgw_sts.exchanges == 0


def test_a_deep_policy_on_the_command_line_exits_3(cli_env, rgw_sts):
    deep = '{"Statement": ' + "[" * 5000 + "]" * 5000 + "}"
    done = run_cli("credential-process", "--policy", deep, env=cli_env)
    assert done.returncode == 3 and "nested too deeply" in done.stderr
    assert "internal error" not in done.stderr and rgw_sts.exchanges == 0


def test_another_servers_policy_gets_only_what_every_server_checks(rgw_sts, settings_for):
    """RGW's rules (a NotAction it ignores, operators it lacks) belong to RGW alone; other
    servers get JSON, an object, the size; their refusal, explained, does the rest."""
    document = json.dumps({"Statement": [{"Effect": "Allow", "NotAction": "s3:Delete*",
                                          "Resource": "*"}]})
    generic = Settings.resolve(endpoint="https://s3.example.org", policy=document, environ={})
    assert generic.server.name == "generic" and generic.policy is not None
    with pytest.raises(ConfigurationError, match="Ceph RGW.*NotAction"):
        resolve(document)  # server_kind rgw
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        Settings.resolve(endpoint="https://s3.example.org", policy="[1]", environ={})
