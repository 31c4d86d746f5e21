"""Object-store endpoints: parsing ``host``, ``host:port`` or a URL, and the presets (what
is known of INFN's production endpoints: server kind, RoleArn, audience; docs/settings.md).
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from .servers import MINIO, RGW, Server
from .table import default_of

__all__ = ["Endpoint", "Preset", "PRESETS", "DEFAULT_ENDPOINT"]

DEFAULT_ENDPOINT = str(default_of("endpoint"))


class Preset(NamedTuple):
    """What is known about a production endpoint: ``audience`` is asked of oidc-agent and
    checked by ``doctor``."""

    role_arn: Optional[str]
    server: Server
    audience: Optional[str] = None


PRESETS: Dict[str, Preset] = {
    # INFN's object-storage guide: oidc-token --aud object
    "rgw.cloud.infn.it": Preset("arn:aws:iam:::role/IAMaccess", RGW, "object"),
    # Claim-based MinIO policies: a RoleArn would be rejected by older servers.
    "minio.cloud.infn.it": Preset(None, MINIO),
}


class Endpoint(NamedTuple):
    """An object-store endpoint, normalised from ``host``, ``host:port`` or a URL."""

    scheme: str
    host: str
    port: Optional[int]

    @classmethod
    def parse(cls, value: str) -> Endpoint:
        text = value.strip()
        if not text:
            raise ConfigurationError("The endpoint is empty: set it to a host name or URL.")
        if "://" not in text:
            text = "https://" + text
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(
                f"The endpoint {value!r} is not a valid host, host:port or URL ({exc})."
            ) from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ConfigurationError(
                f"The endpoint {value!r} uses the scheme {scheme!r}: use http or https."
            )
        if not parts.hostname:
            raise ConfigurationError(f"The endpoint {value!r} has no host name.")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigurationError(
                f"The endpoint {value!r} has a path or query: give only the scheme, "
                "host and port, e.g. https://rgw.cloud.infn.it."
            )
        if parts.username or parts.password:
            raise ConfigurationError(
                "The endpoint has credentials in it: give only the scheme, host and port."
            )
        default_port = 443 if scheme == "https" else 80
        return cls(scheme, parts.hostname.lower(), None if port == default_port else port)

    @property
    def netloc(self) -> str:
        """``host`` or ``host:port`` as HTTP clients want it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @property
    def is_loopback(self) -> bool:
        """Whether the host is this machine: a literal loopback address (127.0.0.0/8,
        ``::1``) or exactly ``localhost`` (not resolved; ``*.localhost`` is not trusted)."""
        if self.host == "localhost":
            return True
        import ipaddress

        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return self.url
