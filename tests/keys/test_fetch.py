"""fetch_credentials: the cache first, an exchange when needed, an expired token never sent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support.jwt_helpers import make_jwt, write_in_place

import infnminio_boto
from infnminio_boto.errors import TokenExpiredError
from infnminio_boto.keys.cache import CredentialCache, entry_key
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings, TokenChoice
from infnminio_boto.sources.file import FileSource
from infnminio_boto.sources.oidc_token import token_from_text
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials


@pytest.fixture
def settings(rgw_sts, token_file, tmp_path) -> Settings:
    return Settings.resolve(
        endpoint=rgw_sts.url,
        token_file=token_file,
        role_arn="arn:aws:iam:::role/IAMaccess",
        cache_dir=str(tmp_path / "cache"),
        environ={},
    )


def test_second_call_is_answered_by_the_cache(settings, rgw_sts):
    first = fetch_credentials(settings)
    assert fetch_credentials(settings) == first
    assert rgw_sts.exchanges == 1


def test_keys_not_fresh_enough_are_exchanged_again(settings, rgw_sts):
    fetch_credentials(settings)
    fresh = fetch_credentials(settings, fresh_enough=lambda keys: False)
    assert rgw_sts.exchanges == 2
    assert fetch_credentials(settings) == fresh  # and the new keys replaced the old


def test_without_the_cache_every_call_exchanges(settings, rgw_sts):
    unshared = settings._replace(cache=False)
    fetch_credentials(unshared)
    fetch_credentials(unshared)
    assert rgw_sts.exchanges == 2


def test_each_identity_has_its_own_entry(settings, rgw_sts, token_file):
    alice = fetch_credentials(settings)
    write_in_place(token_file, make_jwt(sub="bob") + "\n")
    bob = fetch_credentials(settings)
    assert alice != bob and rgw_sts.exchanges == 2


def _cache_keys_for(settings, token_file, seconds_left, lifetime=3600):
    """Put keys with ``seconds_left`` of a ``lifetime`` in the cache for the file's token."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    keys = TemporaryCredentials(
        "AKCACHED",
        "cached-secret",
        "cached-session",
        now + timedelta(seconds=seconds_left),
        issued_at=now + timedelta(seconds=seconds_left - lifetime),
    )
    token = FileSource(token_file).read()
    CredentialCache(settings.cache_dir).write(entry_key(settings, token), keys)
    return keys


def test_an_expired_token_is_not_sent_but_valid_cached_keys_are_handed_out(
    settings, rgw_sts, token_file
):
    """The README's promise, for keys no longer fresh (10 minutes left of 60): handed out."""
    write_in_place(token_file, make_jwt(lifetime=-60) + "\n")
    cached = _cache_keys_for(settings, token_file, seconds_left=600)
    assert fetch_credentials(settings) == cached
    assert infnminio_boto.credentials(**settings_keywords(settings)) == cached
    assert rgw_sts.exchanges == 0


def test_an_expired_token_with_keys_about_to_expire_says_so_and_sends_nothing(
    settings, rgw_sts, token_file
):
    write_in_place(token_file, make_jwt(lifetime=-60) + "\n")
    _cache_keys_for(settings, token_file, seconds_left=20)
    with pytest.raises(TokenExpiredError, match="was not sent"):
        fetch_credentials(settings)
    assert rgw_sts.exchanges == 0


def settings_keywords(settings) -> dict:
    return dict(
        endpoint=settings.endpoint.url,
        token_file=settings.token.value,
        role_arn=settings.role_arn,
        cache_dir=settings.cache_dir,
    )


def test_a_token_given_directly_replaces_the_file(settings, rgw_sts, tmp_path):
    unshared = settings._replace(
        token=TokenChoice("file", str(tmp_path / "missing"), "token_file"), cache=False
    )
    jwt = make_jwt(sub="carol")
    fetch_credentials(unshared, token=jwt)
    fetch_credentials(unshared, token=token_from_text(jwt))
    assert [r.form["WebIdentityToken"] for r in rgw_sts.requests] == [jwt, jwt]
