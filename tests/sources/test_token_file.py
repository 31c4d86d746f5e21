"""Every bad token file a user can have, and the torn reads sts-wire causes."""

from __future__ import annotations

import os
import threading
import time

import pytest
from support.jwt_helpers import make_jwt, write_in_place

from infnminio_boto.errors import TokenExpiredError, TokenFileError
from infnminio_boto.sources.file import TORN_READ_PATIENCE_SECONDS, FileSource
from infnminio_boto.sources.oidc_token import ensure_not_expired


def read_token(paths, *, patience=TORN_READ_PATIENCE_SECONDS, check_expiry=True):
    """What the exchange gets from a named file: the token, never an expired one."""
    token = FileSource(str(paths[0]), patience=patience).read()
    if check_expiry:
        ensure_not_expired(token)
    return token


def test_reads_token_and_strips_trailing_newline(tmp_path):
    path = tmp_path / "tok"
    jwt = make_jwt(sub="alice")
    path.write_text("  " + jwt + "\n\n")
    token = read_token([str(path)])
    assert token.value == jwt
    assert token.subject == "alice"
    assert token.audience == ("object",)
    assert token.issuer == "https://iam.example.org/"
    assert 1100 < token.seconds_left() <= 1200


def test_repr_never_shows_the_token(tmp_path):
    path = tmp_path / "tok"
    jwt = make_jwt()
    path.write_text(jwt)
    token = read_token([str(path)])
    assert jwt not in repr(token)
    assert jwt.split(".")[2] not in str(token)


def test_missing_configured_file_names_it(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(TokenFileError, match="does not exist") as info:
        read_token([missing])
    assert missing in str(info.value)
    assert "INFNMINIO_TOKEN_FILE" in str(info.value)


def test_directory(tmp_path):
    with pytest.raises(TokenFileError, match="is a directory"):
        read_token([str(tmp_path)])


def test_unreadable(tmp_path, monkeypatch):
    path = tmp_path / "tok"
    path.write_text(make_jwt())
    path.chmod(0)
    if os.geteuid() == 0:
        # root reads any file: make the open fail the way it fails for a normal user
        def deny(*args, **kwargs):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr("infnminio_boto.sources.file.os.open", deny)
    with pytest.raises(TokenFileError, match="permission denied"):
        read_token([str(path)])


@pytest.mark.parametrize("content", ["", "   \n\t \n"])
def test_empty_or_whitespace(tmp_path, content):
    path = tmp_path / "tok"
    path.write_text(content)
    started = time.monotonic()
    with pytest.raises(TokenFileError, match="is empty") as info:
        read_token([str(path)], patience=0.2)
    assert time.monotonic() - started >= 0.2  # it waited for a writer first
    assert "sts-wire" in str(info.value)


@pytest.mark.parametrize(
    "content, reason",
    [
        ("hello world", "3"),
        ("a.b.c", "base64url"),
        ("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "payload"),
        ("x.y.z.w.v", "JWE"),
        ('{"refresh_token": "abc"}', "access_token"),
        ("\u00e9t\u00e9", "ASCII"),
    ],
)
def test_not_a_jwt(tmp_path, content, reason):
    path = tmp_path / "tok"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TokenFileError, match=reason) as info:
        read_token([str(path)], patience=0.05)
    assert content not in str(info.value) or len(content) < 6


def test_torn_file_cut_short_is_rejected_after_patience(tmp_path):
    jwt = make_jwt()
    path = tmp_path / "tok"
    path.write_text(jwt[: len(jwt) // 2])  # cut in the payload
    with pytest.raises(TokenFileError, match="does not hold a JWT"):
        read_token([str(path)], patience=0.05)


def test_torn_read_recovers_when_writer_finishes(tmp_path):
    """sts-wire truncates then writes: a reader that sees the gap retries."""
    path = str(tmp_path / "tok")
    write_in_place(path, "")
    jwt = make_jwt(sub="late")

    def finish_later():
        time.sleep(0.1)
        write_in_place(path, jwt)

    threading.Thread(target=finish_later).start()
    token = read_token([path], patience=2)
    assert token.subject == "late"


def test_json_document_with_access_token(tmp_path):
    path = tmp_path / "tok"
    jwt = make_jwt(sub="json")
    path.write_text('{"access_token": "' + jwt + '", "expires_in": 3600}')
    assert read_token([str(path)]).subject == "json"


def test_expired_token_is_never_returned(tmp_path):
    path = tmp_path / "tok"
    path.write_text(make_jwt(lifetime=-12 * 60))
    with pytest.raises(TokenExpiredError) as info:
        read_token([str(path)])
    message = str(info.value)
    assert "expired 12 minutes ago" in message
    assert str(path) in message
    assert "sts-wire" in message
    assert "not sent" in message


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path):
    path = tmp_path / "tok"
    os.mkfifo(path)  # nobody will ever write to it
    started = time.monotonic()
    with pytest.raises(TokenFileError, match="FIFO"):
        read_token([str(path)], patience=5)
    assert time.monotonic() - started < 5  # not even the torn-read patience


def _segment(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


HEADER = _segment(b'{"alg": "RS256"}')


def _jwt_with_payload(payload: bytes) -> str:
    return f"{HEADER}.{_segment(payload)}.{_segment(b'signature' * 8)}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # The JSON wrapper (within 64 KiB). Python 3.13's json reads 3000 levels (a higher
        # C recursion limit), and the wrapper then holds no access token: a token file
        # error all the same, without a traceback.
        (
            '{"a": ' * 3000 + '"x"' + "}" * 3000,
            "nested too deeply|without an 'access_token'",
        ),
        # The claims.
        (
            _jwt_with_payload(b'{"sub": ' + b"[" * 20000 + b"]" * 20000 + b"}"),
            "nested too deeply",
        ),
    ],
    ids=["wrapper", "claims"],
)
def test_deeply_nested_json_is_a_token_file_error(tmp_path, content, message):
    path = tmp_path / "tok"
    path.write_text(content)
    with pytest.raises(TokenFileError, match=message):
        read_token([str(path)], patience=0.05)


@pytest.mark.parametrize(
    "exp",
    ['"1"', '"12345"', "true", "1e400", '{"n": 1}', "[1]", "NaN", "Infinity"],
)
def test_an_odd_exp_is_malformed_and_nothing_is_sent(tmp_path, exp):
    """An exp that is not a plain number would make an expired token look unexpiring."""
    payload = ('{"sub": "s", "iss": "https://i", "exp": ' + exp + "}").encode()
    path = tmp_path / "tok"
    path.write_text(_jwt_with_payload(payload))
    with pytest.raises(TokenFileError, match="exp claim is not a number"):
        read_token([str(path)], patience=0.05)


@pytest.mark.parametrize("seconds_ago", [10, 10**10])
def test_a_numeric_exp_far_in_the_past_is_expired_not_missing(tmp_path, seconds_ago):
    path = tmp_path / "tok"
    path.write_text(make_jwt(lifetime=None, exp=time.time() - seconds_ago))
    with pytest.raises(TokenExpiredError):
        read_token([str(path)])


def test_two_tokens_appended_are_called_two_tokens_not_an_encrypted_jwt(tmp_path):
    path = tmp_path / "tok"
    path.write_text(make_jwt() + "\n")
    with open(path, "a") as handle:  # oidc-token ... >> ~/.token
        handle.write(make_jwt() + "\n")
    with pytest.raises(TokenFileError, match="holds 2 tokens") as info:
        read_token([str(path)], patience=5)
    assert "JWE" not in str(info.value) and ">>" in str(info.value)


def test_token_without_exp_is_accepted(tmp_path):
    path = tmp_path / "tok"
    path.write_text(make_jwt(lifetime=None))
    assert read_token([str(path)]).seconds_left() is None


def test_list_audience(tmp_path):
    path = tmp_path / "tok"
    path.write_text(make_jwt(aud=["object", "other"]))
    assert read_token([str(path)]).audience == ("object", "other")


def test_an_integer_exp_beyond_float_range_is_a_clear_error_everywhere(tmp_path, cli_env):
    """It raised OverflowError from every entry point."""
    from support.cli import run_cli

    import infnminio_boto

    payload = ('{"sub": "s", "iss": "https://i", "aud": "object", "exp": 1' + "0" * 400 + "}")
    path = tmp_path / "tok"
    path.write_text(_jwt_with_payload(payload.encode()))
    with pytest.raises(TokenFileError, match="exp claim is not a number of seconds"):
        infnminio_boto.credentials(token_file=str(path), endpoint="http://127.0.0.1:9")
    for command in ("credential-process", "status", "doctor"):
        done = run_cli(command, env=dict(cli_env, INFNMINIO_TOKEN_FILE=str(path)))
        assert done.returncode == 4, (command, done.stderr)
        assert "OverflowError" not in done.stdout + done.stderr
