"""Helpers that hand the token's credentials to the data libraries, one module per
library (each imports its library only when called), and their ``activate()`` steps.

What they share: settings from keywords, keys fresh enough for an SDK, the masked
keyword dicts, the base of the refreshing providers.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Mapping, MutableMapping, Optional, Tuple

from ..keys.fetch import fetch_credentials
from ..keys.timing import fresh_for_sdk
from ..settings import Settings
from ..settings.aws_variables import config_defaults
from ..sts.temporary_credentials import TemporaryCredentials


def resolve(settings: Mapping[str, Any]) -> Settings:
    """Settings from keyword arguments, shared by every adapter."""
    return Settings.resolve(**settings)


def snapshot(settings: Settings) -> TemporaryCredentials:
    """Keys to hand to a client that cannot refresh, fresh enough for the AWS SDKs too."""
    return fetch_credentials(settings, fresh_enough=fresh_for_sdk)


class ProcessEnvironment(MutableMapping):  # type: ignore[type-arg]
    """This process's environment (``os.environ``), looked up on each use.

    The default of the helpers' ``environ=`` arguments. Its repr names it without
    showing it: ``help()`` and saved notebooks print default values, and after
    ``eval "$(infnminio-boto env)"`` the environment holds a secret key.
    """

    def __getitem__(self, name: str) -> str:
        return os.environ[name]

    def __setitem__(self, name: str, value: str) -> None:
        os.environ[name] = value

    def __delitem__(self, name: str) -> None:
        del os.environ[name]

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)

    def __repr__(self) -> str:
        return "<this process's environment>"


PROCESS_ENVIRONMENT: MutableMapping[str, str] = ProcessEnvironment()

# The keys of the helpers' keyword arguments that hold a secret, in every library's words.
_SECRET_NAMES = frozenset(
    {
        "secret",
        "token",
        "secret_key",
        "session_token",
        "aws_secret_access_key",
        "aws_session_token",
    }
)
_ACCESS_KEY_NAMES = frozenset({"key", "access_key", "aws_access_key_id"})


class Keywords(dict):  # type: ignore[type-arg]
    """Keyword arguments that hold keys: a plain ``dict`` (``**`` and every library take
    it as one) whose repr masks the secret key and the session token, so that a notebook
    cell ending in one does not print them."""

    def __repr__(self) -> str:
        shown = {}
        for name, value in self.items():
            if name in _SECRET_NAMES and isinstance(value, str):
                shown[name] = "***"
            elif name in _ACCESS_KEY_NAMES and isinstance(value, str):
                shown[name] = value[:4] + "***"
            else:
                shown[name] = value
        return f"{dict.__repr__(shown)}"

    __str__ = __repr__

    # Copies and merges stay masked (a plain dict would print the secret again).
    def copy(self) -> Keywords:
        return Keywords(self)

    def __or__(self, other: Any) -> Keywords:
        return Keywords({**self, **other})

    def __ror__(self, other: Any) -> Keywords:
        return Keywords({**other, **self})

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's display
        printer.text(repr(self))


class RefreshingProvider:
    """The base of the refreshing providers handed to minio, polars and obstore.

    Each holds its resolved settings and one refreshing-credentials object. Pickled (to a
    Dask worker, a process pool) it travels as its settings, and a new refresher is made
    on the other side; a provider made from a token given in code refuses to travel: the
    token must not leave this process.
    """

    def __init__(self, settings: Settings, token: Optional[str] = None) -> None:
        from ..keys.refresh import refreshing_credentials

        self.settings = settings
        self._token_given = token is not None
        self.refresher = refreshing_credentials(settings, token=token)

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        if self._token_given:
            raise TypeError(
                f"{type(self).__name__} made from a token given in code cannot be pickled: the "
                "token must not travel. Use a token file or source on the other machine, or "
                "infnminio_boto.dask.share_credentials, which sends only temporary keys."
            )
        return (type(self), (self.settings,))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings.describe()})"


def endpoint_options(settings: Settings) -> Dict[str, Any]:
    """s3fs's ``client_kwargs`` and ``config_kwargs`` for the store of ``settings``."""
    client_kwargs: Dict[str, Any] = {"endpoint_url": settings.endpoint.url}
    if settings.ca_bundle:
        client_kwargs["verify"] = settings.ca_bundle
    config_kwargs: Dict[str, Any] = {
        # The region signs requests; in client_kwargs s3fs would also send it as the
        # LocationConstraint of every bucket it creates, which Ceph RGW refuses.
        "region_name": settings.region,
        "s3": {"addressing_style": "path"},
        **config_defaults(),  # uploads without the checksums RGW refuses, unless chosen
    }
    return {"client_kwargs": client_kwargs, "config_kwargs": config_kwargs}


def set_variables(
    variables: Mapping[str, str], environ: Optional[MutableMapping[str, str]]
) -> None:
    """Set ``variables`` in ``environ`` (None: nowhere)."""
    if environ is not None:
        environ.update(variables)


def set_checksum_variables(environ: Optional[MutableMapping[str, str]]) -> None:
    """The checksum variables RGW needs, where ``environ`` has no value of its own."""
    if environ is not None:
        from ..settings.aws_variables import variables_unless_chosen

        environ.update(variables_unless_chosen(environ))
