"""The OIDC access token a source hands over, and the checks made before it is sent.

Claims are read without verifying the signature (the STS server verifies). Standard
library only: the credential-process command reads tokens without boto3.
"""

from __future__ import annotations

import json
import time
from collections import namedtuple
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .._timestamps import format_timestamp
from ..errors import TokenExpiredError, TokenSourceError, scrub
from ..settings.hot_path import BY_NAME, GIVEN_IN_CODE
from .discovery import sha256, token_digest
from .jwt import NotAJwtError, extract_jwt, parse_jwt_claims

__all__ = [
    "OidcToken", "ensure_not_expired", "parse_jwt_claims", "describe_age", "token_from_text",
    "EXPIRY_LEEWAY_SECONDS",
]

# A token this close to its exp would expire in flight: treat it as expired.
EXPIRY_LEEWAY_SECONDS = 5
# The claims, besides iss, sub and the session tags, that a store may check or map to keys.
_IDENTITY = ("aud", "azp", "client_id", "scope", "groups", "wlcg.groups", "policy")


class OidcToken(namedtuple("OidcToken", "origin value claims modified digest kind path",
                           defaults=(0.0, "", GIVEN_IN_CODE, None))):
    """A JWT from a source; ``repr`` shows the claims that matter, never the token.

    ``origin``: a path, or words such as "the BEARER_TOKEN variable"; ``value``: the token;
    ``claims``: its unverified payload; ``modified``: the file's mtime (else 0);
    ``digest``: what names its fast credential-process entries; ``kind``: its row of
    the token kinds' table; ``path``: the file it was read from (else None).
    """

    __slots__ = ()
    origin: str
    value: str
    claims: Mapping[str, Any]
    modified: float
    digest: str
    kind: str
    path: Optional[str]

    # The claims as shown: made printable (a claim may hold terminal escape sequences).
    @property
    def subject(self) -> Optional[str]:
        return _shown(self.claims.get("sub"))

    @property
    def issuer(self) -> Optional[str]:
        return _shown(self.claims.get("iss"))

    @property
    def audience(self) -> Tuple[str, ...]:
        aud = self.claims.get("aud")
        listed = () if aud is None else aud if isinstance(aud, (list, tuple)) else (aud,)
        return tuple(_shown(a) or "" for a in listed)

    @property
    def exp(self) -> Optional[float]:
        """The ``exp`` claim in epoch seconds (checked to be a number when read)."""
        exp = self.claims.get("exp")
        return float(exp) if exp is not None else None

    @property
    def expires_at(self) -> Optional[datetime]:
        """``exp`` as an aware UTC datetime (None without ``exp``, or beyond year 9999)."""
        exp = self.exp
        try:
            return None if exp is None else datetime.fromtimestamp(exp, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None

    def seconds_left(self, now: Optional[float] = None) -> Optional[float]:
        """Seconds until ``exp`` (negative: expired; None: no ``exp``), compared as numbers."""
        exp = self.exp
        return None if exp is None else exp - (time.time() if now is None else now)

    def identity_claims(self) -> Optional[Dict[str, Any]]:
        """The claims that decide which keys the STS gives for this token, normalised
        (docs/settings.md, "The cache"); None without ``iss`` or ``sub`` (such tokens cannot
        be told apart: their keys are never shared through the cache)."""
        claims = self.claims
        if not claims.get("iss") or not claims.get("sub"):
            return None
        words = {name: _words(claims.get(name)) for name in _IDENTITY}
        return {"iss": str(claims["iss"]), "sub": str(claims["sub"]), **words,
                "tags": _words(claims.get("https://aws.amazon.com/tags"))}

    def identity_digest(self) -> Optional[str]:
        """A hash of :meth:`identity_claims` (None when there are none): no secret."""
        claims = self.identity_claims()
        if claims is None:
            return None
        canonical = json.dumps(claims, sort_keys=True, separators=(",", ":"))
        return sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()

    def describe(self, now: Optional[float] = None) -> str:
        """``subject=... issuer=... audience=... expires ...``: safe to log."""
        return (
            f"subject={self.subject or '-'} issuer={self.issuer or '-'} "
            f"audience={','.join(self.audience) or '-'} {_expiry(self, now)}"
        )

    def __repr__(self) -> str:
        return f"OidcToken(origin={self.origin!r}, {self.describe()})"

    def __reduce__(self) -> Tuple[Any, ...]:
        raise TypeError(
            "An OIDC token is never pickled: it must not leave this process (a Dask worker "
            "gets temporary keys, see infnminio_boto.dask.share_credentials)."
        )


def _shown(value: Any) -> Optional[str]:
    return None if value is None else scrub(str(value), limit=200)


def _words(value: Any) -> List[str]:
    """A claim that may be a string of space-separated words or a list, as sorted words."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return sorted({json.dumps(item) if isinstance(item, (dict, list)) else str(item)
                       for item in value})
    if isinstance(value, str):
        return sorted(set(value.split()))
    return [json.dumps(value, sort_keys=True)]


def _expiry(token: OidcToken, now: Optional[float] = None) -> str:
    left = token.seconds_left(now)
    if left is None:
        return "no exp claim"
    moment = token.expires_at
    stamp = format_timestamp(moment) if moment is not None else f"exp={token.exp:.0f}"
    return f"expires {stamp} ({describe_age(left)})"


def describe_age(seconds_left: float) -> str:
    """``in 14 minutes`` / ``12 minutes ago``."""
    amount = abs(seconds_left)
    if amount < 90:
        text = f"{round(amount)} seconds"
    elif amount < 90 * 60:
        text = f"{round(amount / 60)} minutes"
    elif amount < 48 * 3600:
        text = f"{amount / 3600:.1f} hours"
    elif amount < 1e6 * 86400:
        text = f"{amount / 86400:.1f} days"
    else:
        text = "ages"
    return f"in {text}" if seconds_left >= 0 else f"{text} ago"


def ensure_not_expired(token: OidcToken, now: Optional[float] = None) -> None:
    """Raise :class:`TokenExpiredError` if ``token`` is expired or about to be."""
    left = token.seconds_left(now)
    if left is None or left > EXPIRY_LEEWAY_SECONDS:
        return
    state = f"expired {describe_age(left)}" if left < 0 else f"expires {describe_age(left)}"
    moment = token.expires_at
    stamp = f" (exp {format_timestamp(moment)})" if moment is not None else ""
    written = ""
    if token.path and token.modified:
        written = f" The file was last written {describe_age(token.modified - time.time())}."
    where = f"in {token.path}" if token.path else f"from {token.origin}"
    raise TokenExpiredError(
        f"The token {where} {state}{stamp}.{written} {BY_NAME[token.kind].expired} The "
        "expired token was not sent.",
        path=token.path,
    )


def token_from_text(
    text: str, origin: str = "the token argument", kind: str = GIVEN_IN_CODE
) -> OidcToken:
    """An :class:`OidcToken` from a JWT given as text; :class:`TokenSourceError` (never
    quoting the text) when it is not a JWT."""
    try:
        value = extract_jwt(text.strip())
        claims = parse_jwt_claims(value)
    except NotAJwtError as reason:
        raise TokenSourceError(
            f"{origin[:1].upper()}{origin[1:]} is not a JWT access token: {reason}.",
            source=origin,
        ) from None
    digest = token_digest(text.encode("utf-8", "surrogateescape"))
    return OidcToken(origin, value, claims, 0.0, digest, kind)
