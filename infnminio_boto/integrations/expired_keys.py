"""One retry, with new keys, of an S3 call the store refused because its keys expired:
``ExpiredToken``, or Ceph RGW 16's bare 403 ``AccessDenied`` (or bodiless status) near the
keys' end (docs/design.md, "Keys the store refused")."""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from ..compat import botocore as botocore_private
from ..keys.timing import maybe_expired, recently_issued

if TYPE_CHECKING:
    from ..keys.refresh import RefreshingCredentials

__all__ = ["KeyOwners", "register", "SIGNED_WITH", "RENEWED"]

logger = logging.getLogger(__name__)

# One per event: an emitter ignores a unique id it already holds, whatever the event.
_SIGNER_ID = "infnminio-boto-expired-keys-signer"
_RETRY_ID = "infnminio-boto-expired-keys-retry"
SIGNED_WITH = "infnminio_boto_signed_with"
RENEWED = "infnminio_boto_renewed"
_EXPIRED_CODES = ("ExpiredToken", "ExpiredTokenException")
_BARE_CODES = ("AccessDenied", "403", "Forbidden")
# SigV4 "AWS4-HMAC-SHA256 Credential=AKID/date/...", SigV2 "AWS AKID:signature".
_SIGNER = re.compile(r"Credential=([^/,\s]+)/|^AWS ([^:\s]+):")
_clock = time.time  # a seam for the tests


class KeyOwners:
    """The refreshers whose keys a session's clients sign with (held weakly)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: List[weakref.ref] = []

    def __reduce__(self) -> Tuple[type, Tuple[()]]:
        return (KeyOwners, ())  # pickled for another process: without the refreshers

    def add(self, refresher: RefreshingCredentials) -> None:
        with self._lock:
            self._refs = [ref for ref in self._refs if ref() is not None]
            self._refs.append(weakref.ref(refresher))

    def owner(self, access_key: Optional[str]) -> Optional[RefreshingCredentials]:
        """The refresher that handed out ``access_key``, or None (not our keys)."""
        if not access_key:
            return None
        with self._lock:
            refreshers = [ref() for ref in self._refs]
        return next((r for r in refreshers if r is not None and r.holds(access_key)), None)


def _record_signer(request: Any = None, **_: Any) -> None:
    headers = getattr(request, "headers", None)
    context = getattr(request, "context", None)
    if headers is None or not isinstance(context, dict):
        return
    authorization = headers.get("Authorization")
    if isinstance(authorization, bytes):
        authorization = authorization.decode("ascii", "replace")
    match = _SIGNER.search(authorization or "")
    if match:
        context[SIGNED_WITH] = match.group(1) or match.group(2)
    else:
        context.pop(SIGNED_WITH, None)


def _refused(owners: KeyOwners, response: Any,
             request_dict: Any) -> Optional[Tuple[RefreshingCredentials, str, str]]:
    """``(refresher, access key, code)`` if this refuses our keys as expired, first time."""
    if not response or not isinstance(request_dict, dict):
        return None
    context = request_dict.get("context")
    if not isinstance(context, dict) or context.get(RENEWED):
        return None
    http, parsed = response
    status = getattr(http, "status_code", None)
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    expired = code in _EXPIRED_CODES
    denied = status == 403 and code in _BARE_CODES
    headless = status == 400 and code == "400"  # botocore's code for a bodiless 400
    if not (expired or denied or headless):
        return None
    access_key = context.get(SIGNED_WITH)
    refresher = owners.owner(access_key)
    if refresher is None or not isinstance(access_key, str):
        return None
    current = refresher.current
    # Keys already replaced (a renewal while the call was in flight) were at their end.
    if not expired and current is not None and current.access_key == access_key:
        now = _clock()
        if not (maybe_expired(current, now) or (headless and not recently_issued(current, now))):
            return None
    context[RENEWED] = True
    return refresher, access_key, str(code)


def _retry_now(refresher: RefreshingCredentials, access_key: str, code: str) -> Optional[int]:
    if refresher.replace_refused(access_key) is None:
        return None
    logger.info("S3 answered %s for the current keys: retrying once with new ones", code)
    return 0


def register(events_session: Any, owners: KeyOwners, *, asynchronous: bool = False) -> None:
    """Retry once with new keys the S3 calls of the clients ``events_session`` (a
    botocore ``Session``, or with ``asynchronous`` an aiobotocore ``AioSession``) makes
    when the store refuses the keys of ``owners`` as expired. Again: replaces the handlers."""

    def retry(response: Any = None, request_dict: Any = None, **_: Any) -> Any:
        refused = _refused(owners, response, request_dict)
        return _retry_now(*refused) if refused is not None else None

    async def retry_async(response: Any = None, request_dict: Any = None, **_: Any) -> Any:
        refused = _refused(owners, response, request_dict)
        if refused is None:
            return None
        import asyncio

        # A renewal blocks (the token, HTTP): off the event loop, as s3fs's reads are.
        return await asyncio.get_running_loop().run_in_executor(None, _retry_now, *refused)

    events_session.unregister("request-created.s3", unique_id=_SIGNER_ID)
    events_session.unregister("needs-retry.s3", unique_id=_RETRY_ID)
    botocore_private.register_after_signer(events_session, "request-created.s3", _record_signer,
                                           _SIGNER_ID)
    handler = retry_async if asynchronous else retry
    events_session.register("needs-retry.s3", handler, unique_id=_RETRY_ID)
