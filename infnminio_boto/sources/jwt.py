"""The shape of a JWT access token: three base64url parts, a header with ``alg``, claims.

Decoded *without* verifying the signature (the STS server does): only to word errors,
key the cache and never send an expired token. Nothing here ever quotes the token.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Mapping

__all__ = ["NotAJwtError", "parse_jwt_claims", "extract_jwt"]

# 9999-12-31T23:59:59Z: no clock can judge a later exp (NaN and the infinities fail too).
MAX_EXP = 253402300799


class NotAJwtError(Exception):
    """Why a text is not a JWT (never quoting it); ``final``: reading again cannot help
    (unlike a torn read's empty or cut-short token)."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


def _json(text: Any, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise NotAJwtError(f"its {what} is JSON nested too deeply", final=True) from None


def _b64url_json(segment: str, what: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return _json(raw, what)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise NotAJwtError(f"its {what} is not base64url-encoded JSON") from None


def parse_jwt_claims(text: str) -> Mapping[str, Any]:
    """Decode a JWS compact serialisation's payload, checking its shape only (``exp`` must
    be a number: a string would make an expired token look unexpiring). Raises
    ``NotAJwtError`` with a reason that never quotes the text."""
    words = text.split()
    if len(words) > 1:
        jwts = sum(1 for word in words if word.count(".") == 2)
        if jwts > 1:
            raise NotAJwtError(
                f"it holds {jwts} tokens, not one (appended with >> rather than written with "
                ">?): keep only the newest one",
                final=True,
            )
        raise NotAJwtError("it holds spaces or several lines", final=True)
    parts = text.split(".")
    if len(parts) == 5:
        raise NotAJwtError("it is an encrypted JWT (JWE), not a signed access token", final=True)
    if len(parts) != 3:
        raise NotAJwtError(f"it has {len(parts)} dot-separated parts instead of 3")
    header_segment, payload_segment, signature = parts
    header = _b64url_json(header_segment, "header")
    if not isinstance(header, dict) or "alg" not in header:
        raise NotAJwtError("its header is not a JSON object with an 'alg'")
    claims = _b64url_json(payload_segment, "payload")
    if not isinstance(claims, dict):
        raise NotAJwtError("its payload is not a JSON object")
    if not signature:
        raise NotAJwtError("it has no signature")
    # A signature cut short by a torn read is usually not valid base64url any more.
    if len(signature) % 4 == 1:
        raise NotAJwtError("its signature is cut short")
    try:
        base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (binascii.Error, ValueError):
        raise NotAJwtError("its signature is not base64url") from None
    exp = claims.get("exp")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, (int, float))):
        raise NotAJwtError("its exp claim is not a number of seconds", final=True)
    if exp is not None and not -MAX_EXP < exp < MAX_EXP:  # an int past float's range too
        raise NotAJwtError("its exp claim is not a number of seconds up to 9999", final=True)
    return claims


def extract_jwt(content: str) -> str:
    """The JWT in the text: raw (sts-wire), ``Bearer <jwt>``, or JSON with ``access_token``."""
    if content.startswith("{"):
        try:
            document = _json(content, "JSON wrapper")
        except ValueError:
            raise NotAJwtError("it starts with '{' but is not JSON") from None
        if isinstance(document, dict) and isinstance(document.get("access_token"), str):
            return document["access_token"].strip()
        raise NotAJwtError("it is a JSON document without an 'access_token' string", final=True)
    if content[:7].lower() == "bearer ":
        return content[7:].strip()
    return content
