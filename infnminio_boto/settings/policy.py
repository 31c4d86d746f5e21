"""The ``policy`` setting: a session policy sent with AssumeRoleWithWebIdentity.

A preset (:data:`PRESETS`), a JSON document (text, or a ``dict``) or ``@FILE``. Every
server gets a document that is a JSON object of at most 2048 bytes once compacted (sent
compact: whitespace counts); a server whose :class:`~.servers.Server` lists its own rules
(Ceph RGW: :func:`rgw_problems`) gets them checked too, before anything is sent. What
RGW refuses or silently ignores, measured, is in docs/least-privilege.md.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional

from ..errors import ConfigurationError

__all__ = ["Policy", "parse", "rgw_problems", "PRESETS", "MAX_POLICY_BYTES"]

# RGW 16 (400 PackedPolicyTooLarge, measured), AWS and MinIO refuse more.
MAX_POLICY_BYTES = 2048
MAX_FILE_BYTES = 64 * 1024
MAX_NESTING = 20  # a policy nests ~7 deep; Python 3.13's json reads 5000 levels unharmed
VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                   "Resource", "NotResource", "Condition"}
# The condition operators of Ceph RGW 16's policy parser (strings in libradosgw 16.2.15).
_OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Null",
}
_SET_OPERATORS = {"StringEquals", "StringEqualsIgnoreCase", "StringLike"}
_ACTION = re.compile(r"^(\*|s3:[A-Za-z*?]+)$")
_BUCKET = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
ARN_PREFIX = "arn:aws:s3:::"

_READ = ["s3:Get*", "s3:List*"]
# Multipart uploads are authorised as s3:PutObject; listing is limited by an s3:prefix
# condition, which RGW 16 evaluates in session policies (measured).
_OBJECT_READ_WRITE = ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*",
                      "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]

PRESETS = {
    "read-only": "Get and List on every bucket the role allows",
    "read-only:NAME": "Get and List on bucket NAME only",
    "bucket:NAME": "everything the role allows, on bucket NAME only",
    "prefix:NAME/PATH": "read, write and delete under PATH/ in bucket NAME, and list that "
    "prefix only",
}


class Policy(NamedTuple):
    """A checked session policy (no secret): ``name`` as the user gave it, ``value`` what
    reproduces it as a flag, ``document`` the compact JSON sent, ``meaning`` in words,
    ``file_digest`` the SHA-256 of a policy file's bytes (the fast path keys on it), and
    the ``bucket`` and ``prefix`` a preset is limited to."""

    name: str
    value: str
    document: str
    meaning: str
    file_digest: Optional[str] = None
    bucket: Optional[str] = None
    prefix: Optional[str] = None

    @property
    def size(self) -> int:
        """The compact document's size in bytes (UTF-8), as the server counts it."""
        return len(self.document.encode("utf-8"))

    def describe(self) -> str:
        return f"{self.name} ({self.meaning})"


Rules = Optional[Callable[[Any], Iterable[str]]]
_WILDCARDS = ("*", "?", "${")


def parse(value: Any, source: str, rules: Rules = None, server: str = "") -> Optional[Policy]:
    """The :class:`Policy` of a ``policy`` value, or None ("": no policy). ``source`` names
    where it came from, ``rules`` what the server (``server`` in messages) refuses or
    ignores. Raises :class:`~infnminio_boto.ConfigurationError` for an unknown preset, an
    unreadable file, a document that is no JSON object, breaks ``rules`` or is over 2048
    bytes compacted."""
    if isinstance(value, dict):
        return _document(value, "a JSON document", None, source, None, rules, server)
    if not isinstance(value, str):
        raise ConfigurationError(
            f"policy (from {source}) must be a preset, a JSON policy document or @FILE, "
            f"not {type(value).__name__}."
        )
    text = value.strip()
    if not text:
        return None
    if text.startswith("@"):
        return _from_file(text[1:], source, rules, server)
    if text.startswith(("{", "[")):
        document = _load(text, f"the policy (from {source})")
        return _document(document, "a JSON document", None, source, None, rules, server)
    return _preset(text, source)


def _preset(text: str, source: str) -> Policy:
    kind, colon, rest = text.partition(":")
    if text == "read-only":
        return _built(text, [_allow(_READ, ["*"])], PRESETS["read-only"])
    if colon and kind in ("bucket", "read-only"):
        bucket = _bucket_name(rest, text, source)
        resources = [ARN_PREFIX + bucket, ARN_PREFIX + bucket + "/*"]
        if kind == "bucket":
            meaning = f"everything the role allows, on bucket {bucket} only"
            return _built(text, [_allow(["s3:*"], resources)], meaning, bucket)
        meaning = f"Get and List on bucket {bucket} only"
        return _built(text, [_allow(_READ, resources)], meaning, bucket)
    if colon and kind == "prefix":
        bucket, slash, path = rest.partition("/")
        path = path.strip("/")
        if not slash or not path:
            raise ConfigurationError(
                f"policy {text!r} (from {source}) names no path: write prefix:BUCKET/PATH, "
                "e.g. prefix:analysis/runs (or bucket:BUCKET for the whole bucket)."
            )
        bucket = _bucket_name(bucket, text, source)
        if any(mark in path for mark in _WILDCARDS):
            raise ConfigurationError(
                f"policy {text!r} (from {source}): the path holds * ? or ${{, which a policy "
                "reads as wildcards or variables: write the literal prefix, or give your own "
                "JSON document."
            )
        listing = _allow(["s3:ListBucket"], [ARN_PREFIX + bucket])
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{path}/*"]}}
        statements = [_allow(_OBJECT_READ_WRITE, [f"{ARN_PREFIX}{bucket}/{path}/*"]), listing]
        meaning = (f"read, write and delete under {path}/ in bucket {bucket},"
                   " and list that prefix only")
        return _built(f"prefix:{bucket}/{path}", statements, meaning, bucket, path)
    presets = ", ".join(PRESETS)
    shown = text if len(text) <= 80 else text[:77] + "..."
    raise ConfigurationError(
        f"policy {shown!r} (from {source}) is not a preset ({presets}), a JSON document "
        "(starting with {) or @FILE."
    )


def _bucket_name(name: str, text: str, source: str) -> str:
    if not _BUCKET.match(name):
        raise ConfigurationError(
            f"policy {text!r} (from {source}) needs a bucket name of letters, digits and . _ - "
            "(no wildcards): e.g. bucket:analysis."
        )
    return name


def _allow(actions: List[str], resources: List[str]) -> Dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}


def _built(
    name: str,
    statements: List[Dict[str, Any]],
    meaning: str,
    bucket: Optional[str] = None,
    prefix: Optional[str] = None,
) -> Policy:
    document = _compact({"Version": VERSIONS[0], "Statement": statements})
    return Policy(name, name, document, meaning, None, bucket, prefix)


def _compact(document: Any) -> str:
    # No whitespace (it counts toward the 2048 bytes), UTF-8 rather than \u escapes.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _from_file(path: str, source: str, rules: Rules, server: str) -> Policy:
    if not path.strip():
        raise ConfigurationError(
            f"policy (from {source}) is @ with no file name: write @FILE, e.g. @policy.json."
        )
    location = os.path.abspath(os.path.expanduser(path.strip()))
    where = f"the policy file {location} (from {source})"
    try:
        with open(location, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(
            f"{where} cannot be read ({exc.strerror}): give the path of a JSON policy "
            "document after the @."
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigurationError(f"{where} is larger than {MAX_FILE_BYTES} bytes: not a policy.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigurationError(f"{where} is not UTF-8 text: save it as UTF-8 JSON.") from None
    import hashlib  # only for a policy file: it loads OpenSSL, which the hot path avoids

    digest = hashlib.sha256(raw).hexdigest()
    return _document(
        _load(text, where), "@" + location, "@" + location, source, digest, rules, server
    )


def _load(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ConfigurationError(f"{where} is JSON nested too deeply: not a policy.") from None
    except ValueError as exc:
        raise ConfigurationError(
            f"{where} is not valid JSON ({exc}): give a policy document such as "
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*"],'
            '"Resource":["*"]}]}, or a preset (' + ", ".join(PRESETS) + ")."
        ) from None


def _depth(document: Any) -> int:
    """How deep ``document``'s lists and objects nest, counted without recursion (stops
    past :data:`MAX_NESTING`)."""
    level, deepest = [document], 0
    while level and deepest <= MAX_NESTING:
        deepest += 1
        level = [child for each in level if isinstance(each, (dict, list))
                 for child in (each.values() if isinstance(each, dict) else each)]
    return deepest


def _document(
    document: Any,
    name: str,
    value: Optional[str],
    source: str,
    digest: Optional[str],
    rules: Rules,
    server: str,
) -> Policy:
    where = f"policy {name}" if name.startswith("@") else "the policy"
    where += f" (from {source})"
    if _depth(document) > MAX_NESTING:
        raise ConfigurationError(f"{where} is JSON nested too deeply: not a policy.")
    problems = ["it is not a JSON object"] if not isinstance(document, dict) else []
    if not problems and rules is not None:
        problems = list(rules(document))
    if problems:
        raise ConfigurationError(
            f"{where} would be refused or not enforced as written by {server or 'the STS'}: "
            + "; ".join(problems)
            + ". Fix the document, or use a preset (" + ", ".join(PRESETS) + ")."
        )
    try:
        compact = _compact(document)
    except (TypeError, ValueError, RecursionError) as error:
        raise ConfigurationError(f"{where} cannot be written as JSON: {error}.") from None
    size = len(compact.encode("utf-8"))
    if size > MAX_POLICY_BYTES:
        raise ConfigurationError(
            f"{where} is {size} bytes once compacted; the STS accepts at most "
            f"{MAX_POLICY_BYTES} (RGW answers PackedPolicyTooLarge). Shorten it: fewer "
            "statements, several resources or actions in one statement, wildcards "
            "(s3:Get*, arn:aws:s3:::bucket/*)."
        )
    return Policy(name, value or compact, compact, "a policy document of your own", digest)


def _strings(value: Any) -> Optional[List[str]]:
    """A string or a non-empty list of strings as a list, else None."""
    if isinstance(value, str):
        return [value]
    ok = isinstance(value, list) and value and all(isinstance(item, str) for item in value)
    return list(value) if ok else None


def rgw_problems(document: Dict[str, Any]) -> Iterable[str]:
    """What Ceph RGW 16 refuses (400 MalformedPolicyDocument, empty message) or accepts and
    never enforces (no statement; NotAction) in a document, one phrase each. Measured on
    RGW 16.2.15 and read from its policy parser (docs/least-privilege.md)."""
    for key in sorted(set(document) - _TOP_KEYS):
        yield f"unknown top-level element {key!r} (allowed: Version, Id, Statement)"
    if "Version" in document and document["Version"] not in VERSIONS:
        yield f"Version {document['Version']!r} is not {' or '.join(VERSIONS)}"
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        yield "it has no Statement (the keys could do nothing at all)"
        return
    for number, statement in enumerate(statements, 1):
        yield from _statement_problems(number, statement)


def _statement_problems(number: int, statement: Any) -> Any:
    where = f"statement {number}"
    if not isinstance(statement, dict):
        yield f"{where} is not an object"
        return
    for key in sorted(set(statement) - _STATEMENT_KEYS):
        yield f"{where} has an unknown element {key!r}"
    if statement.get("Effect") not in ("Allow", "Deny"):
        yield f"{where}: Effect must be Allow or Deny, not {statement.get('Effect')!r}"
    if "NotAction" in statement:
        yield (
            f"{where} uses NotAction, which Ceph RGW 16 accepts and never matches (an Allow "
            "grants nothing, a Deny denies nothing): list the actions in Action instead"
        )
    elif "Action" not in statement:
        yield f"{where} has no Action"
    if "Resource" not in statement and "NotResource" not in statement:
        yield f"{where} has no Resource"
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        items = _strings(statement[key]) if key in statement else []
        if items is None:
            yield f"{where}: {key} must be a string or a list of strings"
        for item in items or ():
            if key.endswith("Action") and not _ACTION.match(item):
                yield f"{where}: {key} {item!r} is not '*' or 's3:...'"
            elif key.endswith("Resource") and item != "*" and not item.startswith(ARN_PREFIX):
                yield (f"{where}: {key} {item!r} is not '*' or an S3 ARN ({ARN_PREFIX}BUCKET "
                       f"or {ARN_PREFIX}BUCKET/KEY)")
    if "Condition" in statement:
        yield from _condition_problems(where, statement["Condition"])


def _condition_problems(where: str, condition: Any) -> Any:
    if not isinstance(condition, dict) or not condition:
        yield f"{where}: Condition must be an object of operators"
        return
    for operator, block in condition.items():
        qualifier, colon, bare = operator.rpartition(":")
        if bare.endswith("IfExists"):
            bare = bare[: -len("IfExists")]
        known = bare in _OPERATORS and (
            not colon or (qualifier in ("ForAllValues", "ForAnyValue") and bare in _SET_OPERATORS)
        )
        if not known:
            yield f"{where}: condition operator {operator!r} is not one Ceph RGW knows"
        if not isinstance(block, dict) or not block:
            yield f"{where}: condition {operator!r} must map keys to values"
            continue
        plain = (str, int, float, bool)
        for key, values in block.items():
            listed = isinstance(values, list) and values and all(
                isinstance(v, plain) for v in values)
            if not isinstance(values, plain) and not listed:
                yield f"{where}: condition {operator} {key!r} must have a value or a list of them"
