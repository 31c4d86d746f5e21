"""The minio SDK: arguments, a refreshing client (:class:`StsWireMinioProvider`, asked for
keys on every request), and the old library's API, :class:`InfnMinio`. minio is imported
when one of these is called (docs/clients.md)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, MutableMapping, Optional, Tuple, Union

from ..errors import MissingDependencyError
from ..keys.fetch import read_settings_token
from ..settings import Settings
from ..sts.temporary_credentials import TemporaryCredentials
from . import PROCESS_ENVIRONMENT, Keywords, RefreshingProvider, set_checksum_variables, snapshot

if TYPE_CHECKING:
    import minio

__all__ = ["minio_kwargs", "minio_client", "StsWireMinioProvider", "InfnMinio"]

TokenArgument = Union[str, "os.PathLike[str]", None]
# Three base64url segments: what a JWT looks like (a path has a slash or no dots).
_JWT_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def _minio() -> Any:
    try:
        import minio
    except ImportError:
        raise MissingDependencyError("minio", "minio") from None
    return minio


class StsWireMinioProvider(RefreshingProvider):
    """A minio credentials provider whose keys refresh themselves from the token; ``token``
    (a JWT) replaces the settings' token source."""

    def __init__(
        self, settings: Optional[Settings] = None, *, token: Optional[str] = None, **overrides: Any
    ) -> None:
        super().__init__(settings if settings is not None else Settings.resolve(**overrides), token)

    def retrieve(self) -> Any:
        keys = self.refresher.get()
        return _minio().credentials.Credentials(
            access_key=keys.access_key, secret_key=keys.secret_key, session_token=keys.token,
            expiration=keys.expiration,
        )


def _client_kwargs(settings: Settings) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {"endpoint": settings.endpoint.netloc,
                              "secure": settings.endpoint.secure, "region": settings.region}
    if settings.ca_bundle:
        import urllib3

        kwargs["http_client"] = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED", ca_certs=settings.ca_bundle
        )
    return kwargs


def _key_kwargs(keys: TemporaryCredentials) -> Dict[str, str]:
    return {"access_key": keys.access_key, "secret_key": keys.secret_key,
            "session_token": keys.token}


def minio_kwargs(**settings: Any) -> Dict[str, Any]:
    """Keyword arguments for ``minio.Minio`` with the current keys (they do not refresh)."""
    resolved = Settings.resolve(**settings)
    return Keywords(**_client_kwargs(resolved), **_key_kwargs(snapshot(resolved)))


def minio_client(**settings: Any) -> minio.Minio:
    """A ``minio.Minio`` client whose credentials refresh themselves."""
    resolved = Settings.resolve(**settings)
    return _minio().Minio(credentials=StsWireMinioProvider(resolved), **_client_kwargs(resolved))


def _token_source(token: TokenArgument) -> Tuple[Optional[str], Optional[str]]:
    """``(token file, JWT)`` from the old API's ``token``: a path, or a JWT (three base64url
    parts, and no such file)."""
    if token is None:
        return None, None
    path = os.fsdecode(token)
    looks_like_jwt = path.count(".") == 2 and set(path.strip()) <= _JWT_ALPHABET
    if looks_like_jwt and not os.path.exists(path):
        return None, path.strip()
    return path, None


class InfnMinio:
    """The old library's API: ``from infnminio_boto import InfnMinio as Minio``, then
    ``Minio.from_token(token, endpoint)`` and ``Minio.get_credentials(endpoint, token)`` as
    before (``endpoint`` defaults as everywhere here, no longer to ``minio.cloud.infn.it``)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
        return _minio().Minio(*args, **kwargs)

    @staticmethod
    def _settings(token: TokenArgument, endpoint: Optional[str], settings: Dict[str, Any]):
        token_file, jwt = _token_source(token)
        values = dict(settings, endpoint=endpoint)
        if token_file is not None:
            values["token_file"] = token_file
        return Settings.resolve(**values), jwt

    @classmethod
    def from_token(
        cls, token: TokenArgument = None, endpoint: Optional[str] = None, **settings: Any
    ) -> minio.Minio:
        """A client for ``endpoint`` whose keys refresh from the token file ``token`` (read
        afresh each time), or a JWT given instead (exchanged again until it expires)."""
        resolved, jwt = cls._settings(token, endpoint, settings)
        if jwt is None:
            read_settings_token(resolved)  # a missing or bad file is said now, not later
        provider = StsWireMinioProvider(resolved, token=jwt)
        return _minio().Minio(credentials=provider, **_client_kwargs(resolved))

    @classmethod
    def get_credentials(cls, endpoint: Optional[str] = None, token: TokenArgument = None, *,
                        environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
                        **settings: Any) -> Dict[str, str]:
        """Keyword arguments for ``pyarrow.fs.S3FileSystem``, as before: the keys (not
        refreshed), and ``tls_ca_file_path`` with a ``ca_bundle``; the checksum variables
        are set in ``environ`` unless set, as :func:`infnminio_boto.pyarrow_kwargs` does."""
        resolved, jwt = cls._settings(token, endpoint, settings)
        kwargs = Keywords(_key_kwargs(snapshot(resolved, jwt)))
        set_checksum_variables(environ)
        if resolved.ca_bundle:
            kwargs["tls_ca_file_path"] = resolved.ca_bundle
        return kwargs
