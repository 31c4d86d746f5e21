"""The minio SDK: arguments, a refreshing client, and the old ``InfnMinio`` API.

minio-py asks its credentials ``Provider`` for keys on every request, so
:class:`StsWireMinioProvider` refreshes them from the token file for as long as the
client lives (minio's own ``WebIdentityProvider`` cannot parse Ceph RGW's nanosecond
expirations and takes no lock). Every constructor call uses keywords only, as minio 8
requires.

Migrating from the old library is one import::

    from infnminio_boto import InfnMinio as Minio

    client = Minio.from_token(endpoint="rgw.cloud.infn.it")
    keys = Minio.get_credentials("rgw.cloud.infn.it", token)
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..errors import MissingDependencyError
from ..refresh import refreshing_credentials
from ..settings import Settings
from . import resolve, snapshot

try:
    import minio
    from minio.credentials import Credentials as MinioCredentials
    from minio.credentials import Provider
except ImportError:  # pragma: no cover - exercised without the extra
    raise MissingDependencyError("minio", "minio") from None

__all__ = ["minio_kwargs", "minio_client", "StsWireMinioProvider", "InfnMinio"]


class StsWireMinioProvider(Provider):
    """A ``minio.credentials.Provider`` whose keys refresh themselves from the token file.

    ``token`` (a JWT) replaces the token file, for the old API's ``from_token(token)``.
    """

    def __init__(
        self, settings: Optional[Settings] = None, *, token: Optional[str] = None, **overrides: Any
    ) -> None:
        self.settings = settings if settings is not None else resolve(overrides)
        self.refresher = refreshing_credentials(self.settings, token=token)

    def retrieve(self) -> MinioCredentials:
        keys = self.refresher.get()
        return MinioCredentials(
            access_key=keys.access_key,
            secret_key=keys.secret_key,
            session_token=keys.token,
            expiration=keys.expiration,
        )

    def __repr__(self) -> str:
        return f"StsWireMinioProvider({self.settings.describe()})"


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
    return {
        **_client_kwargs(resolved),
        "access_key": credentials.access_key,
        "secret_key": credentials.secret_key,
        "session_token": credentials.token,
    }


def minio_client(**settings: Any) -> minio.Minio:
    """A ``minio.Minio`` client whose credentials refresh themselves."""
    resolved = resolve(settings)
    return minio.Minio(credentials=StsWireMinioProvider(resolved), **_client_kwargs(resolved))


class InfnMinio(minio.Minio):
    """Drop-in for the old library's client: ``from infnminio_boto import InfnMinio as Minio``.

    It is a ``minio.Minio``; the two class methods of the old API are kept, now with keys
    that refresh and with Ceph RGW's dialect understood.
    """

    @classmethod
    def from_token(
        cls, token: Optional[str] = None, endpoint: Optional[str] = None, **settings: Any
    ) -> InfnMinio:
        """A client for ``endpoint`` from ``token`` (a JWT), or from the token file.

        Without ``token`` the token file is read afresh at each refresh (sts-wire keeps
        it current); with one, that token is exchanged again until it expires.
        """
        resolved = resolve(dict(settings, endpoint=endpoint))
        provider = StsWireMinioProvider(resolved, token=token)
        return cls(credentials=provider, **_client_kwargs(resolved))

    @staticmethod
    def get_credentials(
        endpoint: Optional[str] = None, token: Optional[str] = None, **settings: Any
    ) -> Dict[str, str]:
        """``{"access_key", "secret_key", "session_token"}`` for ``endpoint``, as before."""
        from ..fetch import fetch_credentials
        from ..refresh_timing import fresh_for_sdk

        resolved = resolve(dict(settings, endpoint=endpoint))
        credentials = fetch_credentials(resolved, fresh_enough=fresh_for_sdk, token=token)
        return {
            "access_key": credentials.access_key,
            "secret_key": credentials.secret_key,
            "session_token": credentials.token,
        }
