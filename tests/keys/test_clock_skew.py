"""Expiry decisions on the store's clock: a server 20 minutes ahead of us, or behind."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone

import pytest
from support.cli import run_cli
from support.fake_sts import FakeSts

from infnminio_boto.keys.fetch import read_settings_token
from infnminio_boto.keys.refresh import RefreshingCredentials
from infnminio_boto.keys.timing import refresh_windows
from infnminio_boto.settings import Settings
from infnminio_boto.sts import exchange

OFFSETS = [20 * 60, -20 * 60]


class Clock:
    """This machine's clock, moved by hand (epoch seconds)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("lifetime", [900, 3600])
@pytest.mark.parametrize("offset", OFFSETS)
def test_keys_are_used_and_renewed_by_the_servers_clock(token_file, offset, lifetime):
    clock = Clock()
    with FakeSts("rgw", clock=clock, clock_offset=offset) as server:
        settings = Settings.resolve(
            endpoint=server.url,
            token_file=token_file,
            role_arn="arn:aws:iam:::role/IAMaccess",
            duration_seconds=lifetime,
            cache=False,
            timeout=5,
        )
        token = read_settings_token(settings)
        refresher = RefreshingCredentials(
            lambda: exchange(settings, token, clock=clock), clock=clock
        )
        end = clock.now + 3 * lifetime
        while clock.now < end:
            keys = refresher.get()  # what a request made now would be signed with
            expires = server.issued[keys.access_key].expiration.timestamp()
            assert server.now() < expires, "keys used after the server's expiry"
            clock.now += lifetime / 120
        renewals = server.successful_exchanges
    advisory, _ = refresh_windows(lifetime)
    assert renewals <= math.ceil(3 * lifetime / (lifetime - advisory)) + 1


@pytest.mark.parametrize("offset", OFFSETS)
def test_credential_process_hands_out_keys_on_this_machines_clock(cli_env, offset):
    # The SDKs compare the Expiration printed with their own machine's clock.
    with FakeSts("rgw", clock_offset=offset) as server:
        env = dict(cli_env, INFNMINIO_ENDPOINT=server.url)
        answers = []
        for _ in range(2):
            done = run_cli("credential-process", env=env)
            assert done.returncode == 0, done.stderr
            answers.append(json.loads(done.stdout))
        assert server.exchanges == 1  # the second answered from the cache
    expiration = datetime.strptime(answers[0]["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    left = expiration.replace(tzinfo=timezone.utc).timestamp() - time.time()
    assert 3600 - 120 < left <= 3600
    assert answers[1] == answers[0]
