"""Dask sharing and the processes it sets up: what it serves wins over ambient defaults,
two sharings in one process do not stop each other's endpoint, and a worker that finds
no token says so and names share_credentials (no sandbox needed: the fake STS)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from distributed import Client, LocalCluster

import infnminio_boto
from infnminio_boto.integrations import key_server
from infnminio_boto.keys import shared as shared_keys
from infnminio_boto.settings import Settings
from infnminio_boto.sources.file import FileSource
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

WORKER = r"""
import botocore.session, os
from datetime import datetime, timedelta, timezone
from infnminio_boto.dask import SharedKeysPlugin
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials
keys = TemporaryCredentials("AKSHAREDBYCLIENT", "s", "t",
                            datetime.now(timezone.utc) + timedelta(hours=1))
SharedKeysPlugin((("https://s3.example.org", "", ""), None), keys).setup()
print(botocore.session.Session().get_credentials().get_frozen_credentials().access_key)
"""


def test_a_worker_with_a_default_profile_of_its_own_reads_the_clients_keys(tmp_path):
    """Keys in ~/.aws/credentials came before the worker's endpoint in the SDKs' chain:
    keyless storage_options() failed on a real worker."""
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = x\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
           "AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-c", WORKER], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "AKSHAREDBYCLIENT"
    assert "AWS_SHARED_CREDENTIALS_FILE" in done.stderr  # said in the worker's log


def keys(name: str) -> TemporaryCredentials:
    return TemporaryCredentials(name, "s", "t", datetime.now(timezone.utc) + timedelta(hours=1))


def test_the_endpoint_lives_while_any_sharing_uses_it(monkeypatch):
    monkeypatch.setattr(key_server, "_server", None)
    monkeypatch.setattr(key_server, "_users", [])
    environ: dict = {}
    first, second = (lambda: keys("AKFIRST")), (lambda: keys("AKSECOND"))
    server = key_server.serve(first, environ)
    key_server.serve(second, environ)
    token = environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    try:
        key_server.stop_serving(environ, second)  # the second sharing ends
        assert key_server.serving() and environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == token
        assert server.answer(token)[1]["AccessKeyId"] == "AKFIRST"  # the first goes on
        key_server.stop_serving(environ, first)
        assert not key_server.serving() and "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in environ
    finally:
        key_server.stop_serving(None)


def test_two_sharings_in_one_process_keep_their_sources(monkeypatch, token_file):
    monkeypatch.setattr(shared_keys, "_sources", [])
    monkeypatch.setattr(shared_keys, "_shared", None)
    settings = Settings.resolve(endpoint="https://s3.example.org", token_file=token_file,
                                cache=False, environ={})
    owner = shared_keys.owner(settings, FileSource(token_file).read().identity_digest())
    first, second = (lambda: keys("AKFIRST")), (lambda: keys("AKSECOND"))
    shared_keys.provide(owner, first)
    shared_keys.provide(owner, second)
    assert shared_keys.lookup(settings).access_key == "AKSECOND"  # the latest serves
    shared_keys.withdraw(second)
    assert shared_keys.providing()  # the first sharing still hands out its keys
    assert shared_keys.lookup(settings).access_key == "AKFIRST"  # its own, not the ended one's
    shared_keys.withdraw(first)
    assert not shared_keys.providing()


def test_a_worker_without_a_token_says_so_and_names_share_credentials(
    rgw_sts, settings_for, tmp_path, monkeypatch
):
    """A forgotten share_credentials ended in "No access token found ... Start sts-wire"."""
    monkeypatch.setenv("HOME", str(tmp_path / "nothing-here"))
    settings = settings_for(rgw_sts)
    del settings["token_file"]
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, Client(
        cluster
    ) as client:
        future = client.submit(infnminio_boto.credentials, **settings)
        with pytest.raises(infnminio_boto.TokenSourceError) as raised:
            future.result()
    said = str(raised.value)
    assert "on a Dask worker" in said and "share_credentials(client)" in said
    assert "sts-wire" not in said.split("Tried, in order")[0]
