"""Trusting a private certificate authority in clients that only read the system's.

polars, obstore, and pyarrow without ``tls_ca_file_path``, verify servers against
``SSL_CERT_FILE`` (else the system's authorities) and take no CA argument; pointing it at
the private authority alone would make every public site fail. So one PEM file holds the
system's authorities *and* the configured ones, named after its content; a shell's
``AWS_CA_BUNDLE``, ``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` are all
pointed at one such bundle. Bundles are only ever read.
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import stat
import tempfile
from typing import Dict, List, Mapping, Optional, Sequence

from .. import _files
from .._log import warn, warn_once
from ..errors import ConfigurationError
from ..settings import Settings

__all__ = [
    "CA_BUNDLE_VARIABLES",
    "system_bundle",
    "platform_bundle",
    "combine_bundles",
    "bundle_with_system",
    "trusted_by_shell",
    "shell_bundle_variables",
    "ssl_cert_file_variables",
]

# AWS CLI and SDKs; OpenSSL (curl, git, Python's ssl, rustls-native-certs); requests; curl.
CA_BUNDLE_VARIABLES = ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

# The files OpenSSL-based tools read on common Linux distributions, in order.
_DISTRIBUTION_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, Fedora, Alma
    "/etc/ssl/cert.pem",  # macOS, BSDs
)
# OpenSSL reads "TRUSTED CERTIFICATE" blocks (its auxiliary trust format) too.
_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN (TRUSTED )?CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END (TRUSTED )?CERTIFICATE-----"
)


def platform_bundle() -> Optional[str]:
    """The PEM file of authorities the operating system trusts (no variable consulted)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.openssl_cafile, *_DISTRIBUTION_BUNDLES):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def system_bundle() -> Optional[str]:
    """The PEM file of authorities this machine trusts (``SSL_CERT_FILE`` first)."""
    named = os.environ.get("SSL_CERT_FILE")
    if named and os.path.isfile(named):
        return named
    return platform_bundle()


def _certificates(path: str) -> List[bytes]:
    """The PEM certificate blocks in a file, or in the files of a (c_rehash) directory."""
    if os.path.isdir(path):
        found: List[bytes] = []
        for name in sorted(os.listdir(path)):
            if os.path.isfile(os.path.join(path, name)):
                found += _certificates(os.path.join(path, name))
        return found
    with open(path, "rb") as handle:
        return [match.group(0) for match in _PEM_CERTIFICATE.finditer(handle.read())]


def _identity(block: bytes) -> bytes:
    return re.sub(rb"\s", b"", block)


def combine_bundles(bundles: Sequence[str], directory: str) -> str:
    """One PEM file holding every certificate of ``bundles`` (files or folders), once each.

    When one of the files already holds them all, that file is returned and nothing is
    written. Otherwise a new file is written in ``directory`` (made 0700 if missing; a
    private folder of this user's instead when ``directory`` is not one), atomically,
    named after its content (``ca-<sha256>.pem``, so the same bundles give the same
    file) and world-readable: it holds public certificates only. A file already there is
    reused only when it is this user's, writable by nobody else and holds exactly that
    content. The inputs are never written. Raises
    :class:`~infnminio_boto.errors.ConfigurationError` naming a bundle that cannot be read.
    """
    unique: Dict[bytes, bytes] = {}
    per_file: Dict[str, set] = {}
    for bundle in bundles:
        try:
            blocks = _certificates(bundle)
        except OSError as error:
            raise ConfigurationError(
                f"Cannot read the CA bundle {bundle}: {error.strerror or error}."
            ) from None
        per_file.setdefault(bundle, set()).update(_identity(b) for b in blocks)
        for block in blocks:
            unique.setdefault(_identity(block), block)
    for bundle, held in per_file.items():
        if os.path.isfile(bundle) and unique.keys() <= held:
            return bundle
    content = b"\n".join(unique.values()) + b"\n"
    directory = _private_directory(directory)
    path = os.path.join(directory, f"ca-{hashlib.sha256(content).hexdigest()[:16]}.pem")
    if _holds_exactly(path, content):
        return path
    _files.replace(path, content, mode=0o644)  # public certificates only
    return path


def _private_directory(directory: str) -> str:
    """``directory`` if it is (or can be made) a folder of this user's that nobody else
    can write, else a private folder of this user's under the temporary directory.

    The combined bundle decides whom TLS trusts: a file in a folder another account
    controls could gain that account's authority later (SSL_CERT_FILE names it).
    """
    fallback = os.path.join(tempfile.gettempdir(), f"infnminio-boto-{os.geteuid()}")
    for candidate in (directory, fallback):
        try:
            os.makedirs(candidate, mode=0o700, exist_ok=True)
            info = os.lstat(candidate)
        except OSError:
            continue
        if (
            stat.S_ISDIR(info.st_mode)
            and info.st_uid == os.geteuid()
            and not info.st_mode & 0o022
        ):
            return candidate
        warn(
            __name__,
            "Not writing the combined CA bundle in %s: it is not a folder of this user's "
            "that only this user can write",
            candidate,
        )
    return tempfile.mkdtemp(prefix="infnminio-boto-ca-")


def _holds_exactly(path: str, content: bytes) -> bool:
    """Whether ``path`` is a file of this user's, writable by nobody else, with ``content``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return False
        if info.st_mode & 0o022:
            return False
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(len(content) + 1) == content
    finally:
        os.close(fd)


def bundle_with_system(
    ca_bundle: str, directory: str, trusted: Optional[Sequence[str]] = None
) -> str:
    """A PEM file with the authorities of ``trusted`` (default: the system's) and ``ca_bundle``'s.

    See :func:`combine_bundles`: named after its content, written once and reused, or
    the trusted file itself when it already holds ``ca_bundle``.
    """
    if trusted is None:
        system = system_bundle()
        trusted = [system] if system else []
    return combine_bundles([*trusted, ca_bundle], directory)


def trusted_by_shell(environ: Mapping[str, str]) -> List[str]:
    """The bundles :data:`CA_BUNDLE_VARIABLES` name in ``environ``, and the system's
    when one of them is unset (the tools reading it trust the system's).

    A variable naming a file that does not exist is left out, with a warning.
    """
    trusted: List[str] = []
    for name in CA_BUNDLE_VARIABLES:
        value = environ.get(name)
        if not value:
            value = platform_bundle()
        elif not os.path.exists(value):
            warn_once((name, value), __name__,
                      "%s=%s names no file; its authorities are left out", name, value)
            continue
        if value and value not in trusted:
            trusted.append(value)
    return trusted


def shell_bundle_variables(
    ca_bundle: str, directory: str, environ: Optional[Mapping[str, str]] = None
) -> Dict[str, str]:
    """:data:`CA_BUNDLE_VARIABLES`, all naming one bundle in ``directory`` that holds the
    authorities they named in ``environ`` (default ``os.environ``), or the system's, plus
    ``ca_bundle``'s. Applied again to its own output, it gives the same file.
    """
    trusted = trusted_by_shell(os.environ if environ is None else environ)
    path = combine_bundles([*trusted, ca_bundle], directory)
    return {name: path for name in CA_BUNDLE_VARIABLES}


def ssl_cert_file_variables(settings: Settings) -> Dict[str, str]:
    """``{"SSL_CERT_FILE": ...}`` when ``settings`` has a CA bundle, else nothing."""
    if not settings.ca_bundle:
        return {}
    return {"SSL_CERT_FILE": bundle_with_system(settings.ca_bundle, settings.cache_dir)}
