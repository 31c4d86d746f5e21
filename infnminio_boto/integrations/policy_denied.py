"""Saying so when a session policy is what refused an S3 call.

Ceph RGW 16 answers a call its policies forbid with ``403 AccessDenied`` and an empty
message (a HEAD request: 403 and no body at all; measured on the sandbox), the same
answer it gives for expired keys. When the keys were made with a session policy, the
likely reason is that policy, and the user who set ``policy=read-only`` (or whose Dask
client shared read-only keys) should read it in the error rather than suspect the token.

:func:`register` puts a botocore ``after-call.s3`` handler on a (aio)botocore session:
botocore emits it with the parsed answer before it raises ``ClientError`` from it
(``BaseClient._make_api_call``, botocore 1.31 to 1.44; aiobotocore's awaits the same
event), so the message the handler writes is the exception's, and s3fs's
``PermissionError`` carries it too. Calls that succeed, other errors, and keys made
without a policy are left alone.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ..settings import Policy, Settings

__all__ = ["register", "denied_message", "UNIQUE_ID"]

UNIQUE_ID = "infnminio-boto-session-policy"
_DENIED_CODES = ("AccessDenied", "403", "Forbidden")


def denied_message(
    policy: Policy, settings: Settings, operation: str, bucket: Optional[str]
) -> str:
    """The message of an AccessDenied answered to keys made with ``policy``."""
    shared = settings.policy is None  # the keys a Dask client shares with this worker
    origin = (
        "the Dask client shared keys made with it (share_credentials(client, policy=...))"
        if shared
        else f"policy, from {settings.origin('policy')}"
    )
    target = f" on bucket {bucket}" if bucket else ""
    remedy = (
        "the client that shares them decides: share_credentials(client) without a policy, "
        "or a policy that allows it"
        if shared
        else "leave policy / INFNMINIO_POLICY unset, or choose a policy that allows it"
    )
    return (
        f"Access denied by the session policy {policy.name} ({origin}): it allows "
        f"{policy.meaning}, and {operation}{target} is outside it (or outside what the role "
        f"allows). The token and the keys are fine. For this call use keys made without "
        f"that policy: {remedy}."
    )


def _handler(settings: Settings) -> Callable[..., None]:
    def explain_denied(
        http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any
    ) -> None:
        if getattr(http_response, "status_code", None) != 403 or not isinstance(parsed, dict):
            return
        error = parsed.get("Error")
        if not isinstance(error, dict) or error.get("Code") not in _DENIED_CODES:
            return
        from ..keys import shared as shared_keys  # on a 403 only: session() stays cheap

        policy = shared_keys.policy_in_force(settings)
        if policy is None:
            return
        operation = getattr(model, "name", None) or "this call"
        error["Message"] = denied_message(policy, settings, operation, error.get("BucketName"))

    return explain_denied


def register(events_session: Any, settings: Settings) -> None:
    """Explain session-policy refusals on the S3 clients ``events_session`` makes
    (a ``botocore.session.Session`` or an aiobotocore ``AioSession``). Registering again
    replaces the earlier handler."""
    events_session.unregister("after-call.s3", unique_id=UNIQUE_ID)
    events_session.register("after-call.s3", _handler(settings), unique_id=UNIQUE_ID)
