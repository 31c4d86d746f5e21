"""Faults found by an adversarial review of the token seam, the cache, the fast path and
Dask sharing. Each test fails on the code as reviewed."""

# FOUND BY REVIEW

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from support.cli import run_cli
from support.jwt_helpers import make_jwt

from infnminio_boto import TokenSourceError
from infnminio_boto.integrations import key_server
from infnminio_boto.keys import fastpath
from infnminio_boto.keys import shared as shared_keys
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings
from infnminio_boto.sources.file import FileSource
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials


# FOUND BY REVIEW
def test_a_token_the_store_has_not_seen_is_sent_to_it_not_answered_from_the_cache(
    tmp_path, rgw_sts
):
    """README: the cache key holds every claim "so that a token the store would refuse
    never gets another token's keys". The claims are read without checking the
    signature, so a token with alice's claims and any signature (or alg none, or
    expired) gets alice's cached keys without the store ever seeing it: in a process that
    takes tokens from others (the old API's get_credentials(endpoint, token), a service),
    anyone who knows alice's claims gets her keys."""
    settings = Settings.resolve(
        endpoint=rgw_sts.url, role_arn="arn:r", cache_dir=str(tmp_path), environ={}
    )
    alice = make_jwt(sub="alice")
    assert fetch_credentials(settings, token=alice).access_key in rgw_sts.issued
    header, payload, _ = alice.split(".")
    forged = f"{header}.{payload}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    fetch_credentials(settings, token=forged)
    assert rgw_sts.exchanges == 2  # the store judges the forged token itself


def _keys(seconds: float) -> TemporaryCredentials:
    return TemporaryCredentials(
        "AKALICE", "secret", "session", datetime.now(timezone.utc) + timedelta(seconds=seconds)
    )


# FOUND BY REVIEW
@pytest.mark.parametrize("source", ["token_file", "token_command"])
def test_a_call_naming_another_token_source_that_fails_gets_its_error_not_the_clients_keys(
    monkeypatch, tmp_path, token_file, source
):
    """In the Dask client's process, a call that names another token source (bob's
    file, a command) which cannot be read must fail as it does elsewhere, not be handed
    the sharing client's (alice's) keys: _same_holder counts "no token" as the owner."""
    monkeypatch.setattr(shared_keys, "_shared", None)
    monkeypatch.setattr(shared_keys, "_sources", [])
    monkeypatch.setattr(key_server, "_server", None)
    alice = Settings.resolve(
        endpoint="https://s3.example.org",
        role_arn="arn:r",
        token_file=token_file,
        cache=False,
        environ={},
    )
    shared_keys.provide(
        shared_keys.owner(alice, FileSource(token_file).read().identity_digest()),
        lambda: _keys(900),
    )
    named = {"token_file": str(tmp_path / "bob.token"), "token_command": "false"}[source]
    bob = Settings.resolve(
        endpoint="https://s3.example.org",
        role_arn="arn:r",
        cache=False,
        environ={},
        **{source: named},
    )
    with pytest.raises(TokenSourceError):
        fetch_credentials(bob)


# FOUND BY REVIEW
def test_the_fast_path_does_not_answer_from_a_cache_folder_open_to_others(cli_env):
    """The full command refuses a cache folder others can write ("not used"); the fast
    path still answers from it. Anyone who can write the folder can rename entries
    there (no sticky bit): measured, a `--policy read-only` call then got the keys of a
    call without a policy."""
    flags = ["--role-session-name", "review-test"]
    assert run_cli("credential-process", *flags, env=cli_env).returncode == 0
    os.chmod(cli_env["INFNMINIO_CACHE_DIR"], 0o777)
    environ = {
        k: v
        for k, v in cli_env.items()
        if k.startswith("INFNMINIO_") or k in fastpath.READ_VARIABLES
    }
    handed_over = fastpath.answer(flags, environ) is None  # the full command says why
    assert handed_over
