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

import os
from typing import Any, Collection, Mapping, MutableMapping, Optional

from ..keys.fetch import fetch_credentials
from ..keys.timing import fresh_for_sdk
from ..settings import Settings
from ..sts.temporary_credentials import TemporaryCredentials


def resolve(settings: Mapping[str, Any]) -> Settings:
    """Settings from keyword arguments, shared by every adapter."""
    return Settings.resolve(**settings)


def snapshot(settings: Settings) -> TemporaryCredentials:
    """Keys to hand to a client that cannot refresh, fresh enough for the AWS SDKs too."""
    return fetch_credentials(settings, fresh_enough=fresh_for_sdk)


# The default of the adapters' ``environ`` arguments: this process's environment.
PROCESS_ENVIRONMENT: MutableMapping[str, str] = os.environ


def set_variables(
    variables: Mapping[str, str],
    environ: Optional[MutableMapping[str, str]],
    *,
    unless_set: Collection[str] = (),
) -> None:
    """Set ``variables`` in ``environ`` (None: nowhere); names in ``unless_set`` only
    where the environment has no value of its own (the user's choice wins)."""
    if environ is None:
        return
    for name, value in variables.items():
        if name in unless_set and environ.get(name):
            continue
        environ[name] = value
