"""Unsigned-looking JWTs for unit tests (the fake STS does not verify signatures)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any, Optional

from infnminio_boto.sandbox import write_in_place  # noqa: F401 - re-exported for the tests
from support import secret_registry


def _segment(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def make_jwt(
    *,
    sub: str = "8e5e3c2a-1111-4bbb-9ccc-0123456789ab",
    iss: str = "https://iam.example.org/",
    aud: Any = "object",
    lifetime: Optional[float] = 1200,
    **extra: Any,
) -> str:
    claims = {"sub": sub, "iss": iss, "aud": aud, "iat": int(time.time()), **extra}
    claims = {name: value for name, value in claims.items() if value is not None}
    if lifetime is not None:
        claims["exp"] = int(time.time() + lifetime)
    signature = base64.urlsafe_b64encode(secrets.token_bytes(256)).rstrip(b"=").decode()
    header = _segment({"alg": "RS256", "typ": "JWT", "kid": "k1"})
    token = f"{header}.{_segment(claims)}.{signature}"
    secret_registry.register(token, signature)
    return token
