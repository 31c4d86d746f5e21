"""Turning an STS refusal into a message that says what failed and what to do.

Ceph RGW answers every token problem with an empty ``403 AccessDenied``, so the message
is built from what this side knows: the token's issuer, audience, subject and expiry,
and the role that was asked for. MinIO names the role when the role is the problem
(see :func:`_role_refusal`). Every string from the server (code, message, request id)
is scrubbed (:func:`~infnminio_boto.errors.scrub`) before it is quoted or stored in
the error.
"""

from __future__ import annotations

from typing import Optional

from ..errors import StsError, scrub
from ..settings import Settings
from ..sources.oidc_token import OidcToken, describe_age
from .dialects import Problem
from .retry import THROTTLING_CODES

__all__ = ["explain", "token_facts"]

_SERVER_FAILURE_CODES = ("InternalError", "ServiceUnavailable", "STSNotInitialized")
_TOKEN_REJECTED_CODES = (
    "AccessDenied",
    "InvalidIdentityToken",
    "InvalidParameterValue",
    "IDPRejectedClaim",
    "InvalidClientTokenId",
)


def token_facts(token: OidcToken) -> str:
    """The token's issuer, audience, subject and expiry, for messages (no secret)."""
    left = token.seconds_left()
    expiry = f"exp {describe_age(left)}" if left is not None else "no exp claim"
    return (
        f"issuer {token.issuer or '(none)'}, audience {', '.join(token.audience) or '(none)'}, "
        f"subject {token.subject or '(none)'}, {expiry}"
    )


def _role_refusal(code: Optional[str], lower: str, settings: Settings) -> Optional[str]:
    """The advice when the server refused the role rather than the token, else None.

    MinIO (minio/minio cmd/sts-handlers.go AssumeRoleWithJWT, cmd/iam.go
    GetRolePolicy, internal/config/identity/openid/jwt.go Validate; read at 7aac2a2c,
    2026-02) answers 400 ``InvalidParameterValue``: "Error processing RoleArn parameter:
    RoleARN <arn> is not defined." (or "... RoleARN parse err: ..."), for a RoleArn it
    does not know and no claim-based provider to fall back on; and, when no RoleArn was
    sent to a server without a claim-based provider, "Role
    arn:minio:iam:::role/dummy-internal does not exist", naming its internal stand-in.
    """
    sent = settings.role_arn
    names_role = "rolearn" in lower or (
        "role" in lower and ("does not exist" in lower or "not found" in lower)
    )
    needs_role = code == "MissingParameter" and "role" in lower
    if not (names_role or needs_role):
        return None
    if sent and not needs_role:
        origin = settings.origin("role_arn")
        return (
            f"it does not know the role that was sent, {sent} (from {origin}); the token "
            "is not the problem. A MinIO store with claim-based policies (such as "
            "minio.cloud.infn.it) needs no RoleArn: send none with role_arn=\"\" / "
            "INFNMINIO_ROLE_ARN=\"\" (--role-arn \"\"). Otherwise set role_arn / "
            "INFNMINIO_ROLE_ARN to a role the store's administrators give you (MinIO's "
            "look like arn:minio:iam:::role/...)."
        )
    return (
        "it needs a RoleArn and none was sent (MinIO names its internal stand-in role "
        "when it has no claim-based policies); the token is not the problem. Set role_arn "
        "/ INFNMINIO_ROLE_ARN to the role the store's administrators give you (MinIO's "
        "look like arn:minio:iam:::role/...; INFN's Ceph RGW uses "
        "arn:aws:iam:::role/IAMaccess)."
    )


_POLICY_CODES = ("MalformedPolicyDocument", "PackedPolicyTooLarge")


def _policy_refusal(code: Optional[str], settings: Settings) -> Optional[str]:
    """The advice when the server refused the session policy, else None.

    Ceph RGW 16 answers 400 ``MalformedPolicyDocument`` for a document its parser
    refuses (unknown action or condition operator, a resource that is not an ARN) and
    400 ``PackedPolicyTooLarge`` above 2048 bytes, both with an empty message (measured
    on the sandbox's 16.2.15). AWS packs the policy and the session tags together and
    may refuse a shorter document.
    """
    if code not in _POLICY_CODES:
        return None
    policy = settings.policy
    if policy is None:
        named = "a session policy, though none was sent"
    else:
        named = f"the session policy {policy.name} (policy, from {settings.origin('policy')})"
    if code == "PackedPolicyTooLarge":
        size = f", {policy.size} bytes compact," if policy is not None else ""
        return (
            f"it found {named}{size} too large once packed: the token is not the problem. "
            "Ceph RGW and MinIO accept at most 2048 bytes; AWS counts the packed policy "
            "with the session tags and may refuse less. Shorten it (fewer statements, "
            "wildcards such as s3:Get* or arn:aws:s3:::bucket/*) or use a preset "
            "(read-only, bucket:NAME, read-only:NAME, prefix:NAME/PATH)."
        )
    return (
        f"it refused {named} as malformed: the token is not the problem. Ceph RGW refuses "
        "action names it does not know (check the spelling: s3:GetObject, s3:PutObject, "
        "s3:ListBucket, or wildcards such as s3:Get*), condition keys and operators it "
        "does not support, and resources that are not arn:aws:s3:::BUCKET[/KEY] or *. "
        "Fix the document or use a preset (read-only, bucket:NAME, read-only:NAME, "
        "prefix:NAME/PATH)."
    )


def _advice(status: int, problem: Problem, settings: Settings, token: OidcToken, attempts: int,
            server_message: str, code: Optional[str], request_id: Optional[str],
            duration: int) -> str:
    lower = server_message.lower()
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    if code == "STSNotInitialized":
        return "STS is not enabled on this server: ask its administrators to enable it."
    if status == 429 or code in THROTTLING_CODES:
        return (
            f"it is limiting how often it is asked ({tries}): wait a minute, then retry. "
            "Processes that each exchange the token add up: with the cache on (the "
            "default; cache / INFNMINIO_CACHE) the processes of one user share keys."
        )
    if code == "IDPCommunicationError":
        return (
            f"it could not reach the token's issuer {token.issuer or '(none)'} to check "
            f"the token ({tries}): the fault is between the store and the issuer. Retry "
            "later; if it persists, report it to the storage administrators"
            + (f" quoting request id {request_id}" if request_id else "")
            + "."
        )
    if status >= 500 or code in _SERVER_FAILURE_CODES:
        page = " with an error page" if problem.kind in ("html", "unparseable") else ""
        return (
            f"the server failed{page} ({tries}): the fault is on the server's side. Retry "
            "later; if it persists, report it to the storage administrators"
            + (f" quoting request id {request_id}" if request_id else "")
            + "."
        )
    if problem.kind == "html":
        return (
            "it answered with an HTML page, not STS XML: the endpoint is probably wrong, or "
            "a proxy or load balancer answered instead of the object store. Check endpoint "
            "/ INFNMINIO_ENDPOINT."
        )
    if problem.kind == "unparseable":
        return (
            "its answer is not XML (empty or cut short). If this repeats, the endpoint is "
            "not an S3/STS server or something between breaks the answer."
        )
    if problem.kind == "no-credentials":
        return (
            "its answer has no Credentials element: the endpoint does not seem to speak "
            "STS AssumeRoleWithWebIdentity. Check endpoint / INFNMINIO_ENDPOINT."
        )
    if problem.kind == "bad-credentials":
        return (
            f"its Credentials are unusable ({problem.message}). Report this to the storage "
            "administrators."
        )
    policy = _policy_refusal(code, settings)
    if policy is not None:
        return policy
    role = _role_refusal(code, lower, settings)
    if role is not None:
        return role
    if "expired" in lower or code in ("ExpiredTokenException", "ExpiredToken"):
        return (
            f"it says the token expired (token: {token_facts(token)}). sts-wire refreshes "
            f"{token.origin} and may not be running or may be stuck: restart it, then retry. "
            "Also check this machine's clock."
        )
    if code in ("InvalidArgument", "InvalidParameterValue", "ValidationError") and (
        "duration" in lower or not server_message
    ):
        return (
            f"it refused the request's parameters. DurationSeconds={duration} "
            "must lie between 900 and the role's MaxSessionDuration (3600 s on Ceph RGW "
            "unless the administrator raised it; at most 43200): lower duration_seconds / "
            "INFNMINIO_DURATION_SECONDS. RoleSessionName must be 2-64 characters of "
            "[A-Za-z0-9_=,.@-] (set role_session_name if the derived one is wrong)."
            + (
                f" (duration_seconds={settings.duration_seconds} was refused first, so "
                f"{duration} s, which every Ceph RGW role allows, was tried.)"
                if duration != settings.duration_seconds
                else ""
            )
        )
    if code in _TOKEN_REJECTED_CODES:
        role = settings.role_arn or "none (no RoleArn sent)"
        return (
            "it rejected the token"
            + (" without saying why (Ceph RGW never does)" if not server_message else "")
            + f". Token: {token_facts(token)}; role sent: {role}. Likely causes: the "
            "token's issuer is not registered as an OIDC provider on this store; its "
            "audience is not one the store accepts (INFN's RGW expects 'object': with "
            "oidc-agent use --aud object); the role does not exist or its trust policy does "
            "not admit this issuer, audience or subject; the token was signed by a key the "
            "issuer no longer publishes, or expired in flight."
        )
    return "see the server's message; the storage administrators can look up the request id."


def explain(
    status: int,
    problem: Problem,
    settings: Settings,
    token: OidcToken,
    attempts: int,
    *,
    duration_seconds: Optional[int] = None,
) -> StsError:
    """The :class:`StsError` for a refusal, with its advice.

    ``duration_seconds`` is the DurationSeconds the refused request sent, when the
    exchange sent another than the settings' (see :func:`~infnminio_boto.sts.exchange`).

    The server's code, message and request id are scrubbed of the token and of
    control characters, and bounded, in the message and in the error's attributes.
    """
    secrets = [token.value]
    code = scrub(problem.code, secrets, limit=64) if problem.code else None
    server_message = scrub(problem.message or "", secrets, limit=300)
    request_id = scrub(problem.request_id, secrets, limit=100) if problem.request_id else None
    said = f"HTTP {status}" + (f" {code}" if code else "")
    if server_message:
        said += f": {server_message}"
    advice = _advice(
        status, problem, settings, token, attempts, server_message, code, request_id,
        duration_seconds or settings.duration_seconds,
    )
    endpoint = settings.endpoint.url
    message = f"The STS at {endpoint} refused AssumeRoleWithWebIdentity ({said}): {advice}"
    if request_id and "request id" not in message:
        message += f" [request id {request_id}]"
    return StsError(
        message,
        status=status,
        code=code or None,
        server_message=server_message or None,
        request_id=request_id or None,
        endpoint=endpoint,
    )
