"""What travels to another process (a Dask worker on another machine, a process pool)
carries the settings as resolved where it was made, and never a secret."""

from __future__ import annotations

import base64
import pickle
import subprocess
import sys

import pytest

import infnminio_boto
from infnminio_boto.errors import ConfigurationError
from infnminio_boto.settings import Settings

ENDPOINT = "https://s3.example.org:9000"
ARRIVE = """
import base64, pickle, sys
made = pickle.loads(base64.b64decode(sys.stdin.read()))
settings = getattr(made, "settings", None) or getattr(made, "infnminio_settings", None) or made
print(settings.endpoint.url, settings.role_arn, settings.region, settings.cache_dir, sep="|")
"""


def made_here(monkeypatch, tmp_path):
    """Objects made in a process configured by INFNMINIO_* variables only."""
    monkeypatch.setenv("INFNMINIO_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("INFNMINIO_ROLE_ARN", "arn:aws:iam:::role/Readers")
    monkeypatch.setenv("INFNMINIO_REGION", "eu-south-1")
    monkeypatch.setenv("HOME", str(tmp_path / "client-home"))
    from infnminio_boto.adapters.minio import StsWireMinioProvider
    from infnminio_boto.adapters.obstore import ObstoreCredentialProvider
    from infnminio_boto.adapters.polars import PolarsCredentialProvider

    settings = Settings.resolve()
    return {
        "settings": settings,
        "s3fs": infnminio_boto.s3fs_filesystem(),
        "botocore provider": infnminio_boto.StsWireProvider(),
        "minio provider": StsWireMinioProvider(),
        "polars provider": PolarsCredentialProvider(settings),
        "obstore provider": ObstoreCredentialProvider(settings),
    }


@pytest.mark.parametrize(
    "name",
    [
        "settings",
        "s3fs",
        "botocore provider",
        "minio provider",
        "polars provider",
        "obstore provider",
    ],
)
def test_the_resolved_settings_travel_and_the_machines_own_stay(monkeypatch, tmp_path, name):
    sent = base64.b64encode(pickle.dumps(made_here(monkeypatch, tmp_path)[name]))
    worker_home = tmp_path / "worker-home"
    done = subprocess.run(
        [sys.executable, "-c", ARRIVE],
        input=sent.decode(),
        env={"PATH": "/usr/bin:/bin", "HOME": str(worker_home)},  # no INFNMINIO_* there
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    endpoint, role, region, cache_dir = done.stdout.strip().split("|")
    assert (endpoint, role, region) == (ENDPOINT, "arn:aws:iam:::role/Readers", "eu-south-1")
    assert cache_dir == f"{worker_home}/.cache/infnminio-boto"  # that machine's own


def test_a_provider_made_from_a_token_given_in_code_refuses_to_travel(rgw_sts):
    from support.jwt_helpers import make_jwt

    from infnminio_boto.adapters.minio import StsWireMinioProvider

    provider = StsWireMinioProvider(Settings.resolve(endpoint=rgw_sts.url), token=make_jwt())
    with pytest.raises(TypeError, match="token must not travel"):
        pickle.dumps(provider)


def test_obstore_names_a_bad_option_and_keeps_its_cause(rgw_sts, settings_for):
    pytest.importorskip("obstore")
    with pytest.raises(ConfigurationError, match="prefix 'runs//2026'") as info:
        infnminio_boto.obstore_store("data", prefix="runs//2026", **settings_for(rgw_sts))
    assert "empty path segment" in str(info.value) and info.value.__cause__ is not None
    assert "0.12" not in str(info.value)  # not blamed on the obstore version


def test_a_token_file_named_on_the_client_is_read_on_a_worker_as_a_file_nobody_named(
    tmp_path,
):
    """A worker with a /tmp/token another account planted must not send it because the
    client once named /tmp/token."""
    import os

    from support.jwt_helpers import make_jwt, write_in_place

    from infnminio_boto.errors import TokenFileError
    from infnminio_boto.sources import token_source

    path = tmp_path / "token"
    write_in_place(str(path), make_jwt() + "\n")
    settings = Settings.resolve(token_file=str(path), environ={})
    arrived = pickle.loads(pickle.dumps(settings))
    os.chmod(path, 0o666)  # as a planted file would be: others can write it
    assert token_source(settings).read().subject  # named here: as the user said
    with pytest.raises(TokenFileError, match="others can write it"):
        token_source(arrived).read()
