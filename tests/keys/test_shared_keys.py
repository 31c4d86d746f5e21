"""Keys a Dask client shares: handed out for their settings only, and an error when stale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from infnminio_boto import SharedKeysExpiredError, TokenFileError
from infnminio_boto.integrations import key_server
from infnminio_boto.keys import shared as shared_keys
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials


@pytest.fixture(autouse=True)
def _nothing_shared(monkeypatch):
    monkeypatch.setattr(shared_keys, "_shared", None)
    monkeypatch.setattr(shared_keys, "_source", None)
    monkeypatch.setattr(key_server, "_server", None)


def keys(seconds: float) -> TemporaryCredentials:
    return TemporaryCredentials(
        "AKSHARED", "secret", "session", datetime.now(timezone.utc) + timedelta(seconds=seconds)
    )


SETTINGS = Settings.resolve(endpoint="https://s3.example.org", role_arn="arn:r", environ={})
OTHER = Settings.resolve(endpoint="https://other.example.org", role_arn="arn:r", environ={})


def test_received_keys_replace_the_token_file_for_their_settings_only(tmp_path):
    shared_keys.receive(shared_keys.identity(SETTINGS), keys(600))
    missing = SETTINGS._replace(token_files=(str(tmp_path / "none"),))
    assert fetch_credentials(missing).access_key == "AKSHARED"  # no token file needed
    assert shared_keys.lookup(OTHER) is None


def test_expired_shared_keys_say_the_client_is_gone():
    shared_keys.receive(shared_keys.identity(SETTINGS), keys(-5))
    with pytest.raises(SharedKeysExpiredError, match="Keep the client running"):
        shared_keys.lookup(SETTINGS)


def test_the_clients_own_source_comes_first_and_can_be_bypassed(tmp_path):
    shared_keys.provide(shared_keys.identity(SETTINGS), lambda: keys(900))
    assert shared_keys.lookup(SETTINGS).access_key == "AKSHARED"
    missing = SETTINGS._replace(token_files=(str(tmp_path / "none"),))
    with pytest.raises(TokenFileError):
        fetch_credentials(missing, shared=False)  # the client's renewals read the file


def test_storage_options_leave_the_keys_out_where_keys_are_served(rgw_sts, settings_for):
    from infnminio_boto.adapters.fsspec import storage_options

    assert "key" in storage_options(**settings_for(rgw_sts))
    environ: dict = {"AWS_ACCESS_KEY_ID": "AKIASTALE"}
    server = key_server.serve(lambda: keys(900), environ)
    try:
        assert "key" not in storage_options(**settings_for(rgw_sts))
        assert environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == server.url
        assert "AWS_ACCESS_KEY_ID" not in environ
        status, body = server.answer(environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
        assert status == 200 and body["AccessKeyId"] == "AKSHARED"
    finally:
        server.__exit__(None, None, None)
