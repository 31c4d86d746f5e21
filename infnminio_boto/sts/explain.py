"""Turning an STS refusal into a message that says what failed and what to do.

Ceph RGW answers every token problem with an empty ``403 AccessDenied``, so the message
is built from what this side knows: the token's issuer, audience, subject and expiry,
and the role that was asked for. Server text is scrubbed of the token before it is
quoted.
"""

from __future__ import annotations

from typing import Optional

from ..errors import StsError, scrub
from ..settings import Settings
from ..sources.oidc_token import OidcToken, describe_age
from .dialects import Problem

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
            server_message: str) -> str:
    code = problem.code
    lower = server_message.lower()
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    if code == "STSNotInitialized":
        return "STS is not enabled on this server: ask its administrators to enable it."
    if status >= 500 or code in _SERVER_FAILURE_CODES:
        page = " with an error page" if problem.kind in ("html", "unparseable") else ""
        return (
            f"the server failed{page} ({tries}): the fault is on the server's side. Retry "
            "later; if it persists, report it to the storage administrators"
            + (f" quoting request id {problem.request_id}" if problem.request_id else "")
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
            f"it refused the request's parameters. DurationSeconds={settings.duration_seconds} "
            "must lie between 900 and the role's MaxSessionDuration (3600 s on Ceph RGW "
            "unless the administrator raised it; at most 43200): lower duration_seconds / "
            "INFNMINIO_DURATION_SECONDS. RoleSessionName must be 2-64 characters of "
            "[A-Za-z0-9_=,.@-] (set role_session_name if the derived one is wrong)."
        )
    if code == "MissingParameter" and "role" in lower:
        return (
            "it needs a RoleArn: set role_arn / INFNMINIO_ROLE_ARN (INFN's Ceph RGW uses "
            "arn:aws:iam:::role/IAMaccess)."
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
    status: int, problem: Problem, settings: Settings, token: OidcToken, attempts: int
) -> StsError:
    """The :class:`StsError` for a refusal, with its advice."""
    server_message = scrub(problem.message or "", [token.value])
    said = f"HTTP {status}" + (f" {problem.code}" if problem.code else "")
    if server_message:
        said += f": {server_message[:300]}"
    advice = _advice(status, problem, settings, token, attempts, server_message)
    endpoint = settings.endpoint.url
    message = f"The STS at {endpoint} refused AssumeRoleWithWebIdentity ({said}): {advice}"
    if problem.request_id and "request id" not in message:
        message += f" [request id {problem.request_id}]"
    return StsError(
        message,
        status=status,
        code=problem.code,
        server_message=server_message or None,
        request_id=problem.request_id,
        endpoint=endpoint,
    )
