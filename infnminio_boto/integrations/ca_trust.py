"""Trusting a private certificate authority in clients that only read the system's.

polars (and obstore), and pyarrow when it is given no ``tls_ca_file_path``, verify
servers against the authorities in ``SSL_CERT_FILE`` (else the system's): they take no
CA argument. Pointing ``SSL_CERT_FILE`` at the private authority alone would make every
public site fail in that process, so :func:`bundle_with_system` writes one PEM file that
holds the system's authorities *and* the configured ones, and that is what
``SSL_CERT_FILE`` is set to.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from typing import Dict, Optional

from ..settings import Settings

__all__ = ["system_bundle", "bundle_with_system", "ssl_cert_file_variables"]

# The files OpenSSL-based tools read on common Linux distributions, in order.
_DISTRIBUTION_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, Fedora, Alma
    "/etc/ssl/cert.pem",  # macOS, BSDs
)


def system_bundle() -> Optional[str]:
    """The PEM file of authorities this machine trusts (``SSL_CERT_FILE`` first)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (
        os.environ.get("SSL_CERT_FILE"),
        paths.cafile,
        paths.openssl_cafile,
        *_DISTRIBUTION_BUNDLES,
    ):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def bundle_with_system(ca_bundle: str, directory: str) -> str:
    """A PEM file in ``directory`` with the system's authorities and ``ca_bundle``'s.

    Named after its content, written once (atomically) and reused.
    """
    with open(ca_bundle, "rb") as handle:
        extra = handle.read()
    system = system_bundle()
    base = b""
    if system and os.path.abspath(system) != os.path.abspath(ca_bundle):
        with open(system, "rb") as handle:
            base = handle.read()
    if extra in base:
        return system  # type: ignore[return-value]  # already trusted there
    content = base.rstrip(b"\n") + b"\n" + extra
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"ca-{hashlib.sha256(content).hexdigest()[:16]}.pem")
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    return path


def ssl_cert_file_variables(settings: Settings) -> Dict[str, str]:
    """``{"SSL_CERT_FILE": ...}`` when ``settings`` has a CA bundle, else nothing."""
    if not settings.ca_bundle:
        return {}
    return {"SSL_CERT_FILE": bundle_with_system(settings.ca_bundle, settings.cache_dir)}
