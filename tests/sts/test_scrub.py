"""errors.scrub: what a server or proxy says is made safe before any message quotes it."""

from __future__ import annotations

import secrets
from urllib.parse import quote_plus

import pytest
from support import secret_registry
from support.jwt_helpers import make_jwt

from infnminio_boto.errors import scrub


def opaque_token() -> str:
    """A token that is not JWT-shaped (some issuers hand out opaque ones)."""
    token = secrets.token_urlsafe(48).replace("-", "+").replace("_", "/") + "=="
    secret_registry.register(token)
    return token


@pytest.mark.parametrize(
    "sequence",
    [
        "\x1b[2J",  # CSI: clear the screen
        "\x1b[1;31m",  # CSI with parameters: colour
        "\x1b]0;new title\x07",  # OSC ended by BEL: set the window title
        "\x1b]8;;https://evil.example/\x1b\\",  # OSC ended by ST: a hyperlink
        "\x1bP1$qm\x1b\\",  # DCS string
        "\x1bc",  # RIS: reset the terminal
        "\x9b2J",  # 8-bit CSI
        "\x9d0;title\x9c",  # 8-bit OSC ended by 8-bit ST
    ],
)
def test_escape_sequences_are_removed_whole(sequence):
    assert scrub(f"Access{sequence}Denied") == "AccessDenied"


def test_control_characters_go_and_line_breaks_become_spaces():
    text = "a\x00b\x07c\x08d\x7fe\x85f\u202eg\u2066h\tone\r\ntwo\nthree"
    assert scrub(text) == "abcdefgh one  two three"


def test_the_token_is_masked_as_given_and_url_encoded():
    token = opaque_token()
    for shown in (token, quote_plus(token)):
        cleaned = scrub(f"you sent WebIdentityToken={shown}&x=1", [token])
        assert token not in cleaned and quote_plus(token) not in cleaned
        assert "***" in cleaned and cleaned.startswith("you sent WebIdentityToken=")


def test_a_token_cut_short_or_split_by_escapes_is_still_masked():
    token = opaque_token()
    cut = scrub(f"echo: {token[:40]}", [token])
    assert token[:20] not in cut and "***" in cut
    middle = scrub(f"[{token[10:50]}]", [token])
    assert token[20:36] not in middle
    split = token[:30] + "\x1b[0m" + token[30:]
    assert token not in scrub(split, [token]) and token[:16] not in scrub(split, [token])


def test_jwt_shaped_text_is_masked_even_when_not_given():
    token = make_jwt()
    assert scrub(f"bad token {token}") == "bad token <jwt>"


def test_length_is_bounded():
    cleaned = scrub("x" * 10_000, limit=300)
    assert len(cleaned) == 300 and cleaned.endswith("…")
    assert scrub("short", limit=300) == "short"


def test_ordinary_text_is_left_alone():
    text = "Error processing RoleArn parameter: RoleARN arn:aws:iam:::role/IAMaccess"
    assert scrub(text, [make_jwt()]) == text
