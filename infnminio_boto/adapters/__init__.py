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

from typing import Any, Mapping

from ..fetch import fetch_credentials
from ..refresh_timing import fresh_for_sdk
from ..settings import Settings
from ..temporary_credentials import TemporaryCredentials


def resolve(settings: Mapping[str, Any]) -> Settings:
    """Settings from keyword arguments, shared by every adapter."""
    return Settings.resolve(**settings)


def snapshot(settings: Settings) -> TemporaryCredentials:
    """Keys to hand to a client that cannot refresh, fresh enough for the AWS SDKs too."""
    return fetch_credentials(settings, fresh_enough=fresh_for_sdk)
