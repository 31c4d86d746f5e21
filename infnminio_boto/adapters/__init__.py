"""Helpers that hand the token file's credentials to the data libraries.

One module per library, each importing its library only when called:

* :mod:`.arrow` -- pyarrow ``S3FileSystem`` (static keys, or refreshing through a
  ``credential_process`` profile the AWS C++ SDK re-runs);
* :mod:`.minio` -- the minio SDK, with a refreshing ``Provider``, and the old
  ``InfnMinio`` API;
* :mod:`.fsspec` -- s3fs / pandas / Dask ``storage_options`` and a refreshing
  ``S3FileSystem`` that pickles to Dask workers;
* :mod:`.polars` -- ``storage_options`` and a refreshing ``credential_provider``;
* :mod:`.duckdb` -- an S3 secret on a connection.
"""

from __future__ import annotations

import functools
from typing import Optional

from ..fetch import fetch_credentials
from ..refresh import StsWireCredentials
from ..settings import Settings
from ..temporary_credentials import TemporaryCredentials
from ..windows import fresh_for_botocore


def resolve(settings: dict) -> Settings:
    """Settings from keyword arguments, shared by every adapter."""
    return Settings.resolve(**settings)


def snapshot(settings: Settings) -> TemporaryCredentials:
    """Keys to hand to a client that cannot refresh: with more than 16 minutes left."""
    return fetch_credentials(settings, fresh_enough=fresh_for_botocore)


def refreshing_credentials(settings: Settings, token: Optional[str] = None) -> StsWireCredentials:
    """Our botocore refreshable credentials, for adapters that poll them per request."""
    return StsWireCredentials(functools.partial(fetch_credentials, settings, token=token))
