"""For ``doctor``: the store's certificate, who issued it, until when, and whether a bundle
trusts it. An untrusted certificate is fetched again without verification only to say
who issued it (with ``cryptography`` when installed).
"""

from __future__ import annotations

import socket
import ssl
from datetime import datetime, timezone
from typing import Any, NamedTuple, Optional, Tuple

from ..compat import botocore as botocore_private
from ..settings.endpoint import Endpoint

__all__ = ["CertificateReport", "inspect_certificate", "default_ca_bundle"]


class CertificateReport(NamedTuple):
    trusted: bool
    issuer: Optional[str]
    not_after: Optional[datetime]
    problem: Optional[str]  # why it is not trusted, or why nothing could be learned


def default_ca_bundle() -> str:
    """The bundle the library trusts when ``ca_bundle`` is not set: botocore's."""
    return botocore_private.default_ca_bundle()


def _untrusted_details(address: Tuple[str, int], timeout: float) -> Tuple[Optional[str], Any]:
    """Issuer and expiry of a certificate no bundle vouches for (needs cryptography)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(address, timeout=timeout) as raw:
        with context.wrap_socket(raw) as connection:
            der = connection.getpeercert(binary_form=True)
    try:
        from cryptography import x509
    except ImportError:
        return None, None
    if der is None:
        return None, None
    certificate = x509.load_der_x509_certificate(der)
    # cryptography 42 added not_valid_after_utc; 41 has only the naive not_valid_after.
    aware = getattr(certificate, "not_valid_after_utc", None)
    if aware is None:
        aware = certificate.not_valid_after.replace(tzinfo=timezone.utc)
    return certificate.issuer.rfc4514_string(), aware


def inspect_certificate(
    endpoint: Endpoint, ca_bundle: Optional[str], timeout: float = 5.0
) -> CertificateReport:
    """Connect to ``endpoint`` (https) and verify it against ``ca_bundle``."""
    address = (endpoint.host, endpoint.port or 443)
    context = ssl.create_default_context(cafile=ca_bundle or default_ca_bundle())
    try:
        with socket.create_connection(address, timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=endpoint.host) as connection:
                certificate = connection.getpeercert() or {}
    except ssl.SSLCertVerificationError as error:
        try:
            issuer, not_after = _untrusted_details(address, timeout)
        except OSError:
            issuer, not_after = None, None
        return CertificateReport(False, issuer, not_after, error.verify_message or str(error))
    except (OSError, ssl.SSLError) as error:
        return CertificateReport(False, None, None, f"no TLS handshake: {error}")
    expiry, rdns = certificate.get("notAfter"), certificate.get("issuer", ())
    not_after = (
        datetime.fromtimestamp(ssl.cert_time_to_seconds(expiry), tz=timezone.utc)
        if isinstance(expiry, str) else None
    )
    issuer = None
    if isinstance(rdns, tuple):
        names: Any = rdns
        issuer = ", ".join(f"{key}={value}" for rdn in names for key, value in rdn) or "(empty)"
    return CertificateReport(True, issuer, not_after, None)
