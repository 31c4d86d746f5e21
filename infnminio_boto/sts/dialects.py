"""Reading an AssumeRoleWithWebIdentity answer in any of the three dialects.

MinIO answers with the STS namespace and ``ErrorResponse`` errors; Ceph RGW with no
namespace, S3-style ``Error`` documents, nanosecond timestamps and empty 403 messages;
AWS like MinIO. The parser looks for element names anywhere in the document, without
assuming a namespace or a layout. xmltodict does the XML (entities refused).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Mapping, NamedTuple, Optional, Tuple

from .temporary_credentials import TemporaryCredentials, parse_timestamp

__all__ = ["Problem", "parse_response"]

# How deep the element search goes: STS documents nest four levels at most.
MAX_DEPTH = 8
# How deeply elements may nest in an answer at all (STS answers: five levels). The
# tree is walked recursively, so a deeper document (a hostile or broken server's) is
# refused as unparseable before it is built.
MAX_XML_DEPTH = 16


class _NotAnAnswerError(Exception):
    """Raised inside the expat pre-check: the document is not an STS answer."""

# The characters each STS issues, read from their documentation and sources:
# AccessKeyId: AWS documents the pattern [\w]* (STS API reference, "Credentials"); Ceph
# RGW draws it from [A-Za-z0-9] (rgw_sts.cc, gen_rand_alphanumeric_plain), MinIO from
# [0-9A-Z] (internal/auth/credentials.go). SecretAccessKey: AWS base64 ([A-Za-z0-9+/]),
# RGW [0-9A-Z] (gen_rand_alphanumeric_upper), MinIO base64 with "/" made "+".
# SessionToken: AWS base64 ([A-Za-z0-9+/=]); RGW the base64 (ceph_armor, no line
# breaks: measured on Ceph 16.2.15) of an encrypted blob; MinIO a JWT (base64url and
# dots). base64url's "-" and "_" are let through everywhere (harmless in every format).
# Anything else (a space, a quote, a backslash, "$", a backtick, a control character) is
# no key: it is refused here rather than handed to shells, files and SQL.
_LETTERS_DIGITS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ISSUED_CHARACTERS = {
    "AccessKeyId": _LETTERS_DIGITS | frozenset("_"),
    "SecretAccessKey": _LETTERS_DIGITS | frozenset("+/=_-"),
    "SessionToken": _LETTERS_DIGITS | frozenset("+/=_-."),
}


class Problem(NamedTuple):
    """Why an answer holds no credentials.

    ``kind`` is ``error`` (an error document), ``html`` (a web page), ``unparseable``
    (empty or not XML), ``no-credentials`` or ``bad-credentials``; the other fields are
    what the server said, each possibly None.
    """

    kind: str
    code: Optional[str] = None
    message: Optional[str] = None
    request_id: Optional[str] = None


def _local_names(node: Any) -> Any:
    """Drop namespace prefixes and XML attributes from an xmltodict tree.

    Recursive: only called on documents :func:`_shallow_and_plain` accepted, whose
    depth is at most ``MAX_XML_DEPTH`` elements.
    """
    if isinstance(node, dict):
        result: Dict[str, Any] = {}
        for key, value in node.items():
            if key.startswith("@"):
                continue
            name = key if key == "#text" else key.rsplit(":", 1)[-1]
            result[name] = _local_names(value)
        if set(result) == {"#text"}:
            return result["#text"]
        return result
    if isinstance(node, list):
        return [_local_names(item) for item in node]
    return node


def _text(node: Any) -> Optional[str]:
    if isinstance(node, str):
        return node.strip()
    if isinstance(node, list) and node:
        return _text(node[0])
    if isinstance(node, dict):
        return _text(node.get("#text"))
    return None


def _find(node: Any, name: str, depth: int = 0) -> Any:
    """The first element called ``name`` below ``node``, depth first, in document order."""
    if depth > MAX_DEPTH:
        return None
    children: Iterable[Any]
    if isinstance(node, dict):
        if name in node:
            return node[name]
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find(child, name, depth + 1)
        if found is not None:
            return found
    return None


def _shallow_and_plain(body: bytes) -> bool:
    """Whether ``body`` is well-formed XML nesting at most ``MAX_XML_DEPTH`` elements,
    with no document type declaration (so no entity of any kind: STS answers have none).

    A streaming pass with the standard library's expat, which keeps no tree: a deep
    document costs a counter, not a recursion.
    """
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = 0

    def start(_name: str, _attributes: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise _NotAnAnswerError

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_args: Any) -> None:
        raise _NotAnAnswerError

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(body, True)
    except Exception:  # _NotAnAnswerError, expat errors, bad encodings: all "not an STS answer"
        return False
    return True


def _parse_xml(body: bytes) -> Optional[Dict[str, Any]]:
    import xmltodict  # only when an answer arrives: a cache hit never needs it

    if not _shallow_and_plain(body):
        return None
    try:
        document = xmltodict.parse(body, disable_entities=True)
    except Exception:  # expat errors, bad encodings, entity refusals: all "not XML"
        return None
    if not isinstance(document, dict):
        return None
    return _local_names(document)


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<body" in head


def _header_request_id(headers: Optional[Mapping[str, str]]) -> Optional[str]:
    for header in ("x-amz-request-id", "x-amzn-requestid", "x-minio-request-id"):
        if headers and headers.get(header):
            return headers.get(header)
    return None


def parse_response(
    status: int,
    body: bytes,
    headers: Optional[Mapping[str, str]] = None,
) -> Tuple[Optional[TemporaryCredentials], Optional[Problem]]:
    """``(credentials, None)`` on success, else ``(None, problem)``. Never raises.

    Credentials holding characters no STS issues are a ``bad-credentials`` problem. The
    ``expiration`` is as the server sent it, on its clock: :func:`~.exchange` puts it on
    this machine's (:mod:`.clock`).
    """
    request_id = _header_request_id(headers)
    if _looks_like_html(body):
        return None, Problem("html", request_id=request_id)
    document = _parse_xml(body) if body else None
    if document is None:
        return None, Problem("unparseable", request_id=request_id)

    request_id = _text(_find(document, "RequestId")) or request_id
    error = _find(document, "Error")
    if isinstance(error, dict) or (status >= 400 and error is not None):
        details = error if isinstance(error, dict) else {}
        return None, Problem(
            "error",
            code=_text(details.get("Code")),
            message=_text(details.get("Message")),
            request_id=_text(details.get("RequestId")) or request_id,
        )
    if status >= 400:
        return None, Problem("error", request_id=request_id)

    credentials = _find(document, "Credentials")
    if not isinstance(credentials, dict):
        return None, Problem("no-credentials", request_id=request_id)
    fields = {
        name: _text(credentials.get(name))
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
    }
    missing = [name for name, value in fields.items() if not value]
    if missing:
        return None, Problem(
            "bad-credentials", message="missing " + ", ".join(missing), request_id=request_id
        )
    # Never quote the values: they are (or look like) secrets.
    odd = [
        name
        for name, allowed in _ISSUED_CHARACTERS.items()
        if not set(fields[name]) <= allowed  # type: ignore[arg-type]
    ]
    if odd:
        return None, Problem(
            "bad-credentials",
            message="the server sent credentials with characters no STS issues (in "
            + ", ".join(odd)
            + ")",
            request_id=request_id,
        )
    try:
        expiration = parse_timestamp(fields["Expiration"])  # type: ignore[arg-type]
    except ValueError:
        return None, Problem(
            "bad-credentials",
            message="Expiration is not an ISO 8601 timestamp",
            request_id=request_id,
        )
    return (
        TemporaryCredentials(
            fields["AccessKeyId"],  # type: ignore[arg-type]
            fields["SecretAccessKey"],  # type: ignore[arg-type]
            fields["SessionToken"],  # type: ignore[arg-type]
            expiration,
            issued_at=datetime.now(timezone.utc).replace(microsecond=0),
        ),
        None,
    )
