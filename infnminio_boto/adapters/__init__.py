"""Helpers that hand the token's credentials to the data libraries, one module per library
(each imports its library only when called), and what they share (docs/clients.md)."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, MutableMapping, Optional, Tuple

from ..keys.fetch import fetch_credentials
from ..keys.refresh import refreshing_credentials
from ..keys.timing import fresh_for_sdk
from ..settings import Settings
from ..settings.aws_variables import config_defaults, variables_unless_chosen
from ..sts.temporary_credentials import TemporaryCredentials


def snapshot(settings: Settings, token: Optional[str] = None) -> TemporaryCredentials:
    """Keys for a client that cannot refresh, fresh enough for the AWS SDKs too."""
    return fetch_credentials(settings, fresh_enough=fresh_for_sdk, token=token)


class ProcessEnvironment(MutableMapping):  # type: ignore[type-arg]
    """``os.environ``, looked up on each use: the default of the helpers' ``environ=``,
    whose repr hides it (``help()`` prints defaults; it may hold a secret key)."""

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
_SECRET_NAMES = frozenset({"secret", "token", "secret_key", "session_token",
                           "aws_secret_access_key", "aws_session_token"})
_ACCESS_KEY_NAMES = frozenset({"key", "access_key", "aws_access_key_id"})


class Keywords(dict):  # type: ignore[type-arg]
    """Keyword arguments that hold keys: a plain ``dict`` whose repr masks the secret key
    and the session token (a notebook cell ending in one does not print them)."""

    def __repr__(self) -> str:
        shown = {}
        for name, value in self.items():
            if name in _SECRET_NAMES and isinstance(value, str):
                value = "***"
            elif name in _ACCESS_KEY_NAMES and isinstance(value, str):
                value = value[:4] + "***"
            shown[name] = value
        return dict.__repr__(shown)

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
    """The base of the refreshing providers handed to minio, polars and obstore: pickled,
    it travels as its settings (a new refresher is made there), unless made from a token
    given in code, which must not leave this process."""

    def __init__(self, settings: Settings, token: Optional[str] = None) -> None:
        self.settings = settings
        self._token_given = token is not None
        self.refresher = refreshing_credentials(settings, token=token)

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        if self._token_given:
            raise TypeError(f"{type(self).__name__} made from a token given in code cannot be "
                            "pickled: the token must not travel. Use a token file or source on "
                            "the other machine, or infnminio_boto.dask.share_credentials, which "
                            "sends only temporary keys.")
        return (type(self), (self.settings,))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings.describe()})"


def endpoint_options(settings: Settings) -> Dict[str, Any]:
    """s3fs's ``client_kwargs`` and ``config_kwargs`` for the store of ``settings``."""
    client_kwargs: Dict[str, Any] = {"endpoint_url": settings.endpoint.url}
    if settings.ca_bundle:
        client_kwargs["verify"] = settings.ca_bundle
    # The region signs requests; in client_kwargs s3fs would also send it as the
    # LocationConstraint of every bucket it creates, which Ceph RGW refuses.
    config_kwargs = {"region_name": settings.region, "s3": {"addressing_style": "path"},
                     **config_defaults()}  # uploads without the checksums RGW refuses
    return {"client_kwargs": client_kwargs, "config_kwargs": config_kwargs}


def set_checksum_variables(environ: Optional[MutableMapping[str, str]]) -> None:
    """The checksum variables RGW needs, where ``environ`` has no value of its own."""
    if environ is not None:
        environ.update(variables_unless_chosen(environ))
