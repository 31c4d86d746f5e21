"""Keys a Dask client shares: handed out for their settings only, and an error when stale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support.jwt_helpers import make_jwt, write_in_place

from infnminio_boto import SharedKeysExpiredError, TokenFileError
from infnminio_boto.integrations import key_server
from infnminio_boto.keys import shared as shared_keys
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings
from infnminio_boto.sources.file import FileSource
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials


@pytest.fixture(autouse=True)
def _nothing_shared(monkeypatch):
    monkeypatch.setattr(shared_keys, "_shared", None)
    monkeypatch.setattr(shared_keys, "_sources", [])
    monkeypatch.setattr(key_server, "_server", None)


def keys(seconds: float) -> TemporaryCredentials:
    return TemporaryCredentials(
        "AKSHARED", "secret", "session", datetime.now(timezone.utc) + timedelta(seconds=seconds)
    )


def settings_with(token_file: str, endpoint: str = "https://s3.example.org") -> Settings:
    return Settings.resolve(
        endpoint=endpoint, role_arn="arn:r", token_file=token_file, cache=False, environ={}
    )


def owner_of(token_file: str) -> shared_keys.Owner:
    token = FileSource(token_file).read()
    return shared_keys.owner(settings_with(token_file), token.identity_digest())


def test_received_keys_replace_a_missing_token_for_their_settings_only(tmp_path, token_file):
    shared_keys.receive(owner_of(token_file), keys(600))
    missing = settings_with(str(tmp_path / "none"))  # a worker on another machine
    assert fetch_credentials(missing).access_key == "AKSHARED"  # no token file needed
    other_store = settings_with(str(tmp_path / "none"), endpoint="https://other.example.org")
    assert shared_keys.lookup(other_store) is None


def test_shared_keys_never_go_to_another_identity(tmp_path, token_file, rgw_sts):
    """A notebook shares alice's keys with its workers; a session with bob's token file
    for the same store must act as bob (its own exchange), never as alice."""
    alice = settings_with(token_file, endpoint=rgw_sts.url)
    alice_owner = shared_keys.owner(alice, FileSource(token_file).read().identity_digest())
    shared_keys.provide(alice_owner, lambda: keys(900))
    shared_keys.receive(alice_owner, keys(900))
    bob_file = str(tmp_path / "bob-token")
    write_in_place(bob_file, make_jwt(sub="bob") + "\n")
    bob = settings_with(bob_file, endpoint=rgw_sts.url)
    assert shared_keys.lookup(bob) is None
    assert fetch_credentials(bob).access_key in rgw_sts.issued  # exchanged, as bob
    assert fetch_credentials(alice).access_key == "AKSHARED"  # alice still gets hers


def test_expired_shared_keys_say_the_client_is_gone(tmp_path, token_file):
    shared_keys.receive(owner_of(token_file), keys(-5))
    with pytest.raises(SharedKeysExpiredError, match="Keep the client running"):
        shared_keys.lookup(settings_with(str(tmp_path / "none")))


def test_the_clients_own_source_comes_first_and_can_be_bypassed(tmp_path, token_file):
    shared_keys.provide(owner_of(token_file), lambda: keys(900))
    assert shared_keys.lookup(settings_with(token_file)).access_key == "AKSHARED"
    missing = settings_with(str(tmp_path / "none"))
    with pytest.raises(TokenFileError):
        fetch_credentials(missing, shared=False)  # the client's renewals read the file


def test_storage_options_leave_the_keys_out_where_keys_are_served(rgw_sts, settings_for):
    from infnminio_boto.adapters.fsspec import storage_options

    assert "key" in storage_options(**settings_for(rgw_sts))
    environ: dict = {"AWS_ACCESS_KEY_ID": "AKIASTALE"}
    fetch = lambda: keys(900)  # noqa: E731
    server = key_server.serve(fetch, environ)
    try:
        assert "key" not in storage_options(**settings_for(rgw_sts))
        assert environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == server.url
        assert "AWS_ACCESS_KEY_ID" not in environ
        status, body = server.answer(environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
        assert status == 200 and body["AccessKeyId"] == "AKSHARED"
    finally:
        key_server.stop_serving(environ, fetch)
    assert not key_server.serving() and "key" in storage_options(**settings_for(rgw_sts))
