"""Settings precedence, endpoint forms and presets."""

from __future__ import annotations

import pytest

from infnminio_boto.errors import ConfigurationError
from infnminio_boto.settings import Endpoint, Settings, TokenChoice


@pytest.mark.parametrize(
    "text, url, secure",
    [
        ("rgw.cloud.infn.it", "https://rgw.cloud.infn.it", True),
        ("rgw.cloud.infn.it:8443", "https://rgw.cloud.infn.it:8443", True),
        ("https://rgw.cloud.infn.it/", "https://rgw.cloud.infn.it", True),
        ("https://rgw.cloud.infn.it:443", "https://rgw.cloud.infn.it", True),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000", False),
        ("HTTP://LocalHost:9000", "http://localhost:9000", False),
        ("http://[::1]:8000", "http://[::1]:8000", False),
    ],
)
def test_endpoint_forms(text, url, secure):
    endpoint = Endpoint.parse(text)
    assert endpoint.url == url
    assert endpoint.secure is secure


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty"),
        ("ftp://host", "scheme"),
        ("https://host/bucket", "path"),
        ("https://host:99999", "not a valid"),
        ("https://user:pw@host", "credentials"),
    ],
)
def test_bad_endpoints(text, match):
    with pytest.raises(ConfigurationError, match=match):
        Settings.resolve(endpoint=text, environ={})


def test_defaults_are_the_rgw_preset():
    settings = Settings.resolve(environ={"HOME": "/h"})
    assert settings.endpoint.url == "https://rgw.cloud.infn.it"
    assert settings.role_arn == "arn:aws:iam:::role/IAMaccess"
    assert settings.duration_seconds == 3600
    assert settings.token == TokenChoice("discover")  # the order runs where the token is read
    assert settings.server_kind == "rgw"


def test_minio_preset_sends_no_role_arn():
    settings = Settings.resolve(endpoint="minio.cloud.infn.it", environ={})
    assert settings.role_arn is None
    assert settings.server_kind == "minio"


def test_unknown_endpoint_has_no_role_arn():
    assert Settings.resolve(endpoint="s3.example.org", environ={}).role_arn is None


def test_environment_beats_preset_and_argument_beats_environment(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    env = {
        "INFNMINIO_ENDPOINT": "minio.cloud.infn.it",
        "INFNMINIO_TOKEN_FILE": "/env/token",
        "INFNMINIO_ROLE_ARN": "arn:aws:iam:::role/FromEnv",
        "INFNMINIO_ROLE_SESSION_NAME": "env-session",
        "INFNMINIO_DURATION_SECONDS": "1800",
        "INFNMINIO_REGION": "eu-central-1",
        "INFNMINIO_CA_BUNDLE": str(ca),
    }
    from_env = Settings.resolve(environ=env)
    assert from_env.endpoint.host == "minio.cloud.infn.it"
    assert from_env.token == TokenChoice("file", "/env/token", "token_file")
    assert from_env.token_configured
    assert from_env.role_arn == "arn:aws:iam:::role/FromEnv"  # beats the preset's none
    assert from_env.role_session_name == "env-session"
    assert from_env.duration_seconds == 1800
    assert from_env.region == "eu-central-1"
    assert from_env.ca_bundle == str(ca)

    explicit = Settings.resolve(
        environ=env,
        endpoint="rgw.cloud.infn.it",
        token_file="/arg/token",
        role_arn="arn:aws:iam:::role/FromArg",
        role_session_name="arg-session",
        duration_seconds=900,
        region="us-east-1",
    )
    assert explicit.endpoint.host == "rgw.cloud.infn.it"
    assert explicit.token == TokenChoice("file", "/arg/token", "token_file")
    assert explicit.role_arn == "arn:aws:iam:::role/FromArg"
    assert explicit.role_session_name == "arg-session"
    assert explicit.duration_seconds == 900
    assert explicit.region == "us-east-1"


def test_empty_role_arn_argument_means_none_sent():
    assert Settings.resolve(role_arn="", environ={}).role_arn is None


def test_empty_environment_variable_counts_as_unset():
    settings = Settings.resolve(environ={"INFNMINIO_ENDPOINT": "", "INFNMINIO_ROLE_ARN": " "})
    assert settings.endpoint.host == "rgw.cloud.infn.it"
    assert settings.role_arn == "arn:aws:iam:::role/IAMaccess"


@pytest.mark.parametrize("value", ["86400", "100", "abc"])
def test_bad_durations_name_the_variable(value):
    with pytest.raises(ConfigurationError) as info:
        Settings.resolve(environ={"INFNMINIO_DURATION_SECONDS": value})
    assert isinstance(info.value, ValueError)
    text = str(info.value)
    assert "INFNMINIO_DURATION_SECONDS" in text or "duration_seconds=" in text


def test_rgw_preset_caps_duration():
    with pytest.raises(ConfigurationError, match="43200"):
        Settings.resolve(duration_seconds=50000, environ={})
    assert Settings.resolve(endpoint="minio.cloud.infn.it", duration_seconds=50000, environ={})


def test_bad_session_name():
    with pytest.raises(ConfigurationError, match="2 to 64"):
        Settings.resolve(role_session_name="has space", environ={})


def test_missing_ca_bundle():
    with pytest.raises(ConfigurationError, match="ca_bundle"):
        Settings.resolve(ca_bundle="/no/such/ca.pem", environ={})


def test_unknown_keyword():
    with pytest.raises(ConfigurationError, match="Unknown setting"):
        Settings.resolve(endpont="x", environ={})


def test_plain_http_to_remote_host_needs_opt_in():
    with pytest.raises(ConfigurationError, match="unencrypted"):
        Settings.resolve(endpoint="http://s3.example.org", environ={})
    assert Settings.resolve(endpoint="http://s3.example.org", allow_insecure_http=True, environ={})
    assert Settings.resolve(
        endpoint="http://s3.example.org", environ={"INFNMINIO_ALLOW_INSECURE_HTTP": "1"}
    )
    assert Settings.resolve(endpoint="http://localhost:9000", environ={})
    assert Settings.resolve(endpoint="http://127.0.0.5:9000", environ={})


@pytest.mark.parametrize(
    "endpoint",
    [
        # Names the resolver may send anywhere (glibc asks DNS for them when /etc/hosts
        # does not list them).
        "http://foo.localhost:9000",
        "http://localhost.example.org",
        "http://localhost.:9000",
        # Addresses that reach this machine only on some systems, or not at all.
        "http://0.0.0.0:9000",
        "http://[::ffff:10.0.0.1]:9000",
    ],
)
def test_plain_http_guard_trusts_only_literal_loopback_and_localhost(endpoint):
    with pytest.raises(ConfigurationError, match="unencrypted"):
        Settings.resolve(endpoint=endpoint, environ={})
    assert Settings.resolve(endpoint=endpoint, allow_insecure_http=True, environ={})


@pytest.mark.parametrize(
    "endpoint", ["http://localhost:9000", "http://127.1.2.3", "http://[::1]:9000"]
)
def test_plain_http_to_loopback_needs_no_opt_in(endpoint):
    assert Settings.resolve(endpoint=endpoint, environ={}).endpoint.is_loopback


def test_sources_record_where_each_value_came_from(tmp_path):
    settings = Settings.resolve(
        environ={"HOME": str(tmp_path), "INFNMINIO_REGION": "eu-south-1"},
        duration_seconds=1800,
    )
    assert settings.sources["duration_seconds"] == "argument"
    assert settings.sources["region"] == "environment"
    assert settings.sources["role_arn"] == "preset"  # rgw.cloud.infn.it's IAMaccess
    assert settings.sources["endpoint"] == "default"
    assert set(settings.given()) == {"duration_seconds", "region"}
    assert settings.origin("duration_seconds", command_line=True) == "--duration-seconds"
    assert settings.origin("region") == "INFNMINIO_REGION"
    assert not settings.token_configured


def test_an_empty_role_arn_argument_is_a_choice_not_a_default():
    settings = Settings.resolve(role_arn="", environ={})
    assert settings.role_arn is None and settings.sources["role_arn"] == "argument"


@pytest.mark.parametrize(
    "content, match",
    [
        (b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", "no PEM certificate"),
        (b"\x30\x82\x01\x0a", "no PEM certificate"),
    ],
)
def test_a_ca_bundle_without_certificates_is_refused_by_name(tmp_path, content, match):
    path = tmp_path / "ca.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError, match=match) as info:
        Settings.resolve(environ={"INFNMINIO_CA_BUNDLE": str(path)})
    assert str(path) in str(info.value) and "INFNMINIO_CA_BUNDLE" in str(info.value)


def test_every_setting_has_a_flag_and_a_variable():
    from infnminio_boto.settings import SETTINGS_BY_NAME

    flags = [s.flag for s in SETTINGS_BY_NAME.values()]
    assert len(set(flags)) == len(flags)
    assert SETTINGS_BY_NAME["cache"].flag == "--no-cache"
    assert SETTINGS_BY_NAME["allow_insecure_http"].flag == "--allow-insecure-http"
    for name, setting in SETTINGS_BY_NAME.items():
        assert setting.variable == "INFNMINIO_" + name.upper()
        # each one really is read from its variable
        value = {
            "endpoint": "s3.example.org",
            "token_file": "/t",
            "role_arn": "arn:x",
            "role_session_name": "abc",
            "duration_seconds": "1000",
            "region": "r1",
            "allow_insecure_http": "1",
            "timeout": "3",
            "max_attempts": "4",
            "cache": "0",
            "cache_dir": "/c",
        }.get(name)
        if value is None:
            continue
        assert Settings.resolve(environ={setting.variable: value}).sources[name] == "environment"


def readme_settings_table() -> str:
    from infnminio_boto.settings import SETTINGS_BY_NAME

    lines = [
        "| keyword | environment | flag | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, setting in SETTINGS_BY_NAME.items():
        lines.append(
            f"| `{name}` | `{setting.variable}` | `{setting.flag}` | {setting.default_text} "
            f"| {setting.description} |"
        )
    return "\n".join(lines)


def test_the_documented_settings_table_is_the_settings_table():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "settings.md").read_text()
    expected = readme_settings_table()
    assert expected in page, "docs/settings.md's settings table should read:\n" + expected


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e9"])
def test_a_timeout_that_is_no_usable_number_of_seconds_is_refused(value):
    with pytest.raises(ConfigurationError, match="INFNMINIO_TIMEOUT"):
        Settings.resolve(environ={"INFNMINIO_TIMEOUT": value})


def test_relative_paths_are_made_absolute_once_when_the_settings_are_made(
    rgw_sts, settings_for, tmp_path, monkeypatch
):
    """After a chdir a running session read another folder's token (another identity),
    and new clients failed TLS: paths were kept relative."""
    from support.jwt_helpers import make_jwt, write_in_place

    import infnminio_boto

    first, second = tmp_path / "first", tmp_path / "second"
    for folder, subject in ((first, "alice"), (second, "bob")):
        folder.mkdir()
        write_in_place(str(folder / "token"), make_jwt(sub=subject))
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    (first / "ca.pem").write_text(pem)
    monkeypatch.chdir(first)
    values = dict(settings_for(rgw_sts), token_file="token", cache_dir="cache", cache=True)
    settings = Settings.resolve(**values, ca_bundle="ca.pem", environ={})
    assert settings.ca_bundle == str(first / "ca.pem")
    assert settings.cache_dir == str(first / "cache")
    assert settings.token.value == str(first / "token")
    session = infnminio_boto.session(**values)
    monkeypatch.chdir(second)
    session.client("s3").list_buckets()
    [request] = rgw_sts.requests
    assert request.form["RoleSessionName"] == "alice"  # the first folder's token
    assert (first / "cache").is_dir() and not (second / "cache").exists()


def test_max_attempts_has_a_bound():
    """Found with the kind "inputs with no bound": a billion attempts, each up to its
    timeouts and a pause, would keep a caller waiting for ever."""
    with pytest.raises(ConfigurationError, match="must be 1 to 10"):
        Settings.resolve(max_attempts=10**9, environ={})
    assert Settings.resolve(max_attempts=10, environ={}).max_attempts == 10
