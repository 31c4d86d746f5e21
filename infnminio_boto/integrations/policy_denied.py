"""Saying so when a session policy is what refused an S3 call: Ceph RGW 16 answers a bare
``403 AccessDenied``, so with keys made under a policy an ``after-call.s3`` handler
rewrites the message botocore raises (docs/least-privilege.md)."""

from __future__ import annotations

from typing import Any, Optional

from ..settings import Policy, Settings

__all__ = ["register", "denied_message", "UNIQUE_ID"]

UNIQUE_ID = "infnminio-boto-session-policy"
_DENIED_CODES = ("AccessDenied", "403", "Forbidden")


def denied_message(policy: Policy, settings: Settings, operation: str,
                   bucket: Optional[str]) -> str:
    """The message of an AccessDenied answered to keys made with ``policy``."""
    shared = settings.policy is None  # the keys a Dask client shares with this worker
    origin = ("the Dask client shared keys made with it (share_credentials(client, policy=...))"
              if shared else f"policy, from {settings.origin('policy')}")
    target = f" on bucket {bucket}" if bucket else ""
    remedy = ("the client that shares them decides: share_credentials(client) without a policy, "
              "or a policy that allows it" if shared
              else "leave policy / INFNMINIO_POLICY unset, or choose a policy that allows it")
    return (
        f"Access denied by the session policy {policy.name} ({origin}): it allows "
        f"{policy.meaning}, and {operation}{target} is outside it (or outside what the role "
        f"allows). The token and the keys are fine. For this call use keys made without "
        f"that policy: {remedy}."
    )


def register(events_session: Any, settings: Settings) -> None:
    """Explain session-policy refusals on the S3 clients ``events_session`` (a botocore
    ``Session`` or aiobotocore ``AioSession``) makes. Again: replaces the handler."""

    def explain_denied(http_response: Any = None, parsed: Any = None, model: Any = None,
                       **_: Any) -> None:
        if getattr(http_response, "status_code", None) != 403 or not isinstance(parsed, dict):
            return
        error = parsed.get("Error")
        if not isinstance(error, dict) or error.get("Code") not in _DENIED_CODES:
            return
        from ..keys import shared as shared_keys  # on a 403 only: session() stays cheap

        policy = shared_keys.policy_in_force(settings)
        if policy is not None:
            operation = getattr(model, "name", None) or "this call"
            error["Message"] = denied_message(policy, settings, operation, error.get("BucketName"))

    events_session.unregister("after-call.s3", unique_id=UNIQUE_ID)
    events_session.register("after-call.s3", explain_denied, unique_id=UNIQUE_ID)
