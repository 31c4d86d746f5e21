"""fetch_credentials: the cache first, an exchange when needed, an expired token never sent."""

from __future__ import annotations

import pytest
from support.jwt_helpers import make_jwt, write_in_place

from infnminio_boto.errors import TokenExpiredError
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings
from infnminio_boto.sources.oidc_token import token_from_text


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


def test_an_expired_token_is_not_sent_but_cached_keys_are_handed_out(
    settings, rgw_sts, token_file
):
    cached = fetch_credentials(settings)
    write_in_place(token_file, make_jwt(lifetime=-60) + "\n")
    assert fetch_credentials(settings) == cached
    with pytest.raises(TokenExpiredError, match="was not sent"):
        fetch_credentials(settings, fresh_enough=lambda keys: False)
    assert rgw_sts.exchanges == 1


def test_a_token_given_directly_replaces_the_file(settings, rgw_sts, tmp_path):
    unshared = settings._replace(token_files=(str(tmp_path / "missing"),), cache=False)
    jwt = make_jwt(sub="carol")
    fetch_credentials(unshared, token=jwt)
    fetch_credentials(unshared, token=token_from_text(jwt))
    assert [r.form["WebIdentityToken"] for r in rgw_sts.requests] == [jwt, jwt]
