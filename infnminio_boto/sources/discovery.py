"""Finding the token: the order of the places tried, and what identifies a token's content.

Builtin modules only (no ``os``, ``re`` or ``hashlib``, no package import): the fast
``credential_process`` (:mod:`infnminio_boto.keys.fastpath`) runs this module by
path, outside the package, and the token sources import it inside the package, so the
order is written once.
"""

import sys


def sha256(data=b""):
    """The builtin SHA-256 (hashlib would load OpenSSL), imported on first use."""
    if sys.version_info >= (3, 12):
        from _sha2 import sha256 as builtin  # type: ignore[import-not-found]
    else:  # pragma: no cover - depends on the Python version
        from _sha256 import sha256 as builtin  # type: ignore[import-not-found]
    return builtin(data)


def token_digest(content):
    """What identifies a token file's content in a fast key (its stripped bytes)."""
    return sha256(content.strip()).hexdigest()
