"""The sandbox issuer's token endpoint, as oidc-agent 4.2.6 calls it (no Ceph needed).

oidc-agent sends ``grant_type=refresh_token`` with the client in HTTP Basic and form
values *not* URL-encoded (``scope=openid offline_access&audience=a b``); these tests
send exactly that over real HTTP to an issuer on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Iterator, Tuple

import pytest
from support import secret_registry

# The sandbox extra: absent from the supported-range runs, which test the core only.
jwt = pytest.importorskip("jwt", reason="the sandbox extra (PyJWT) is not installed")
pytest.importorskip("cryptography", reason="the sandbox extra is not installed")

from infnminio_boto.sandbox.grants import OidcClient, RefreshTokens  # noqa: E402
from infnminio_boto.sandbox.issuer import IssuerServer, SigningKey  # noqa: E402


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def issuer(key, tmp_path) -> Iterator[Tuple[IssuerServer, RefreshTokens]]:
    client = OidcClient.new()
    secret_registry.register(client.client_secret)
    grants = RefreshTokens(tmp_path)
    server = IssuerServer(key, 0, client=client, grants=grants, lifetime=300).start()
    try:
        yield server, grants
    finally:
        server.stop()


def post(server: IssuerServer, body: str, *, secret=None, path="/token"):
    """POST ``body`` as is (like oidc-agent); (status, JSON answer, headers)."""
    client = server.client
    assert client is not None
    credentials = f"{client.client_id}:{secret or client.client_secret}".encode()
    request = urllib.request.Request(
        server.url + path,
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), error.headers


def issued(grants: RefreshTokens, subject="alice") -> str:
    token = grants.issue(subject)
    secret_registry.register(token)
    return token


def claims(server: IssuerServer, token: str) -> dict:
    secret_registry.register(token)
    return jwt.decode(
        token, server.key.private_key.public_key(), algorithms=["RS256"],
        options={"verify_aud": False},
    )


def test_discovery_names_what_oidc_agent_needs(issuer):
    server, _ = issuer
    with urllib.request.urlopen(server.url + "/.well-known/openid-configuration") as answer:
        discovery = json.load(answer)
    assert discovery["token_endpoint"] == server.url + "/token"
    assert "offline_access" in discovery["scopes_supported"]
    assert "refresh_token" in discovery["grant_types_supported"]
    assert "client_secret_basic" in discovery["token_endpoint_auth_methods_supported"]


def test_refresh_grant_gives_a_token_for_the_requested_audiences_and_scope(issuer):
    server, grants = issuer
    refresh = issued(grants, "alice")
    status, answer, _ = post(
        server,
        f"grant_type=refresh_token&refresh_token={refresh}"
        "&scope=openid offline_access&audience=object other",
    )
    assert status == 200, answer
    token = claims(server, answer["access_token"])
    assert token["iss"] == server.url and token["sub"] == "alice"
    assert token["aud"] == ["object", "other"]
    assert token["scope"] == answer["scope"] == "openid offline_access"
    assert token["exp"] - token["iat"] == answer["expires_in"] == 300
    assert answer["refresh_token"] == refresh  # not rotated

    _, single, _ = post(server, f"grant_type=refresh_token&refresh_token={refresh}&audience=object")
    assert claims(server, single["access_token"])["aud"] == "object"
    _, default, _ = post(server, f"grant_type=refresh_token&refresh_token={refresh}")
    assert claims(server, default["access_token"])["aud"] == server.client.client_id


def test_refresh_tokens_survive_a_form_body_that_is_not_url_encoded(issuer):
    """oidc-agent joins raw k=v pairs: a token with + / = would arrive mangled."""
    server, grants = issuer
    for _ in range(40):
        status, answer, _ = post(
            server, f"grant_type=refresh_token&refresh_token={issued(grants)}&scope=openid"
        )
        assert status == 200, answer


def test_a_wrong_client_secret_is_invalid_client(issuer):
    server, grants = issuer
    status, answer, headers = post(
        server, f"grant_type=refresh_token&refresh_token={issued(grants)}", secret="wrong"
    )
    assert (status, answer["error"]) == (401, "invalid_client")
    assert headers["WWW-Authenticate"].startswith("Basic")


def test_an_unknown_or_revoked_refresh_token_is_invalid_grant(issuer):
    server, grants = issuer
    status, answer, _ = post(server, "grant_type=refresh_token&refresh_token=never-issued")
    assert (status, answer["error"]) == (400, "invalid_grant")

    refresh = issued(grants)
    assert post(server, f"grant_type=refresh_token&refresh_token={refresh}")[0] == 200
    grants.revoke(refresh)
    status, answer, _ = post(server, f"grant_type=refresh_token&refresh_token={refresh}")
    assert (status, answer["error"]) == (400, "invalid_grant")


def test_a_scope_beyond_the_grant_is_refused(issuer):
    server, grants = issuer
    status, answer, _ = post(
        server, f"grant_type=refresh_token&refresh_token={issued(grants)}&scope=openid admin"
    )
    assert (status, answer["error"]) == (400, "invalid_scope")


def test_other_grants_are_unsupported(issuer):
    server, _ = issuer
    status, answer, _ = post(server, "grant_type=client_credentials")
    assert (status, answer["error"]) == (400, "unsupported_grant_type")


def test_there_is_no_device_flow(issuer):
    """An agent's automatic re-authentication must fail at once, not wait for a user."""
    server, _ = issuer
    assert post(server, "client_id=x&scope=openid", path="/device")[0] == 404
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(server.url + "/device", timeout=10)
    assert info.value.code == 404


def test_the_grants_on_disk_hold_no_token(issuer, tmp_path):
    _, grants = issuer
    refresh = issued(grants)
    stored = list((tmp_path / "refresh-tokens").iterdir())
    assert len(stored) == 1
    assert oct(stored[0].stat().st_mode & 0o777) == "0o600"
    assert refresh not in stored[0].name and refresh not in stored[0].read_text()
