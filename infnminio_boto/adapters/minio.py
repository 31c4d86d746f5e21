"""The minio SDK: arguments, a refreshing client, and the old ``InfnMinio`` API.

minio-py asks its credentials provider for keys on every request, so
:class:`StsWireMinioProvider` refreshes them from the token file for as long as the
client lives (minio's own ``WebIdentityProvider`` cannot parse Ceph RGW's nanosecond
expirations and takes no lock). Every constructor call uses keywords only, as minio 8
requires. minio is imported when one of these is called, not before.

Migrating from the old library is one import; its calls work as its README shows::

    from infnminio_boto import InfnMinio as Minio

    client = Minio.from_token("/home/.token")
    kwargs = Minio.get_credentials("rgw.cloud.infn.it", "/home/.token")
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, MutableMapping, Optional, Tuple, Union

from ..errors import MissingDependencyError
from ..settings import Settings
from . import (
    PROCESS_ENVIRONMENT,
    Keywords,
    RefreshingProvider,
    resolve,
    set_checksum_variables,
    snapshot,
)

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
    """A minio credentials provider whose keys refresh themselves from the token.

    minio calls ``retrieve()`` before every request. ``token`` (a JWT) replaces the
    settings' token source.
    """

    def __init__(
        self, settings: Optional[Settings] = None, *, token: Optional[str] = None, **overrides: Any
    ) -> None:
        super().__init__(settings if settings is not None else resolve(overrides), token)

    def retrieve(self) -> Any:
        keys = self.refresher.get()
        return _minio().credentials.Credentials(
            access_key=keys.access_key,
            secret_key=keys.secret_key,
            session_token=keys.token,
            expiration=keys.expiration,
        )


def _client_kwargs(settings: Settings) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {
        "endpoint": settings.endpoint.netloc,
        "secure": settings.endpoint.secure,
        "region": settings.region,
    }
    if settings.ca_bundle:
        import urllib3

        kwargs["http_client"] = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED", ca_certs=settings.ca_bundle
        )
    return kwargs


def minio_kwargs(**settings: Any) -> Dict[str, Any]:
    """Keyword arguments for ``minio.Minio`` with the current keys (they do not refresh)."""
    resolved = resolve(settings)
    credentials = snapshot(resolved)
    return Keywords(
        **_client_kwargs(resolved),
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        session_token=credentials.token,
    )


def minio_client(**settings: Any) -> minio.Minio:
    """A ``minio.Minio`` client whose credentials refresh themselves."""
    resolved = resolve(settings)
    return _minio().Minio(credentials=StsWireMinioProvider(resolved), **_client_kwargs(resolved))


def _token_source(token: TokenArgument) -> Tuple[Optional[str], Optional[str]]:
    """``(token file, JWT)`` from the old API's ``token`` argument.

    The old library takes the *path* of the token file; a value that is itself a JWT
    (three base64url parts, and no such file) is taken as the token.
    """
    if token is None:
        return None, None
    path = os.fspath(token)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    looks_like_jwt = path.count(".") == 2 and set(path.strip()) <= _JWT_ALPHABET
    if looks_like_jwt and not os.path.exists(path):
        return None, path.strip()
    return path, None


class InfnMinio:
    """The old library's API with one import changed.

    ``from infnminio_boto import InfnMinio as Minio``; then, as before,
    ``Minio.from_token(token=None, endpoint=None)`` gives a ``minio.Minio`` client and
    ``Minio.get_credentials(endpoint=None, token=None)`` the keyword arguments of
    ``pyarrow.fs.S3FileSystem``. ``token`` is the path of the token file (``None``: the
    usual places); ``endpoint`` defaults as everywhere in infnminio-boto
    (``INFNMINIO_ENDPOINT``, else ``rgw.cloud.infn.it``; the old library's default was
    ``minio.cloud.infn.it``). The client's keys now refresh themselves.
    ``InfnMinio(...)`` itself builds a ``minio.Minio`` with the arguments given.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
        return _minio().Minio(*args, **kwargs)

    @staticmethod
    def _settings(token: TokenArgument, endpoint: Optional[str], settings: Dict[str, Any]):
        token_file, jwt = _token_source(token)
        values = dict(settings, endpoint=endpoint)
        if token_file is not None:
            values["token_file"] = token_file
        return resolve(values), jwt

    @classmethod
    def from_token(
        cls, token: TokenArgument = None, endpoint: Optional[str] = None, **settings: Any
    ) -> minio.Minio:
        """A client for ``endpoint`` whose keys refresh from the token file ``token``.

        The file is read afresh at each refresh (sts-wire keeps it current). A JWT given
        instead of a path is exchanged again until it expires.
        """
        resolved, jwt = cls._settings(token, endpoint, settings)
        if jwt is None:
            from ..keys.fetch import read_settings_token

            read_settings_token(resolved)  # a missing or bad file is said now, not later
        provider = StsWireMinioProvider(resolved, token=jwt)
        return _minio().Minio(credentials=provider, **_client_kwargs(resolved))

    @classmethod
    def get_credentials(
        cls,
        endpoint: Optional[str] = None,
        token: TokenArgument = None,
        *,
        environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
        **settings: Any,
    ) -> Dict[str, str]:
        """Keyword arguments for ``pyarrow.fs.S3FileSystem``, as before: the keys.

        They do not refresh (see :func:`infnminio_boto.s3_filesystem` for a filesystem
        that does). With a ``ca_bundle`` set, ``tls_ca_file_path`` is included; the
        checksum variables pyarrow's SDK needs against Ceph RGW are set in ``environ``
        unless set, as :func:`infnminio_boto.pyarrow_kwargs` does.
        """
        from ..keys.fetch import fetch_credentials
        from ..keys.timing import fresh_for_sdk

        resolved, jwt = cls._settings(token, endpoint, settings)
        credentials = fetch_credentials(resolved, fresh_enough=fresh_for_sdk, token=jwt)
        set_checksum_variables(environ)
        kwargs = Keywords(
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            session_token=credentials.token,
        )
        if resolved.ca_bundle:
            kwargs["tls_ca_file_path"] = resolved.ca_bundle
        return kwargs
