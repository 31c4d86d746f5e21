"""oidc-agent and the shell out of step (laptops): the cases from oidc-agent's own tracker,
with a stand-in oidc-token on PATH (the real agent: tests/sandbox/test_oidc_agent.py)."""

from __future__ import annotations

import logging
import os
import socket
import stat
import sys

import pytest
from support.jwt_helpers import make_jwt

import infnminio_boto
from infnminio_boto import StsError, TokenSourceError
from infnminio_boto.sources.oidc_agent import OidcAgentSource


def fake_oidc_token(folder, *, token: str = "", fails: str = "") -> None:
    """An `oidc-token` on PATH that prints ``token``, or fails saying ``fails``."""
    script = folder / "oidc-token"
    if fails:
        body = f"import sys\nsys.stderr.write({fails!r} + '\\n')\nsys.exit(1)\n"
    else:
        body = f"print({token!r})\n"
    script.write_text(f"#!{sys.executable} -I\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # no oidc-agent-service socket
    monkeypatch.delenv("OIDC_SOCK", raising=False)
    return folder


def test_no_oidc_sock_lets_oidc_token_find_the_agent_itself(on_path):
    """oidc-agent 5.2+ finds oidc-agent-service's socket without OIDC_SOCK (#585): the
    product used to refuse before running it ("OIDC_SOCK is not set")."""
    fake_oidc_token(on_path, token=make_jwt())
    token = OidcAgentSource("infncloud", audience="object").read()
    assert token.audience == ("object",)


def test_no_oidc_sock_and_no_agent_says_where_it_looked_and_how_to_start_it(on_path, tmp_path):
    fake_oidc_token(on_path, fails="Error: did not receive any response")
    with pytest.raises(TokenSourceError) as raised:
        OidcAgentSource("infncloud").read()
    said = str(raised.value)
    default = tmp_path / "tmp" / f"oidc-agent-service-{os.getuid()}" / "oidc-agent.sock"
    assert "OIDC_SOCK is not set" in said and str(default) in said
    assert "oidc-agent-service use" in said and "oidc-add infncloud" in said


def test_a_stale_oidc_sock_is_named_with_its_path(on_path, tmp_path, monkeypatch):
    """#651: the agent was restarted; oidc-token says only "did not receive any response"."""
    fake_oidc_token(on_path, fails="Error: did not receive any response")
    gone = tmp_path / "agent-gone.sock"
    monkeypatch.setenv("OIDC_SOCK", str(gone))
    with pytest.raises(TokenSourceError, match=f"OIDC_SOCK names {gone}, which does not exist"):
        OidcAgentSource("infncloud").read()
    dead = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX) as bound:  # a socket file nobody listens on
        bound.bind(str(dead))
    monkeypatch.setenv("OIDC_SOCK", str(dead))
    with pytest.raises(TokenSourceError, match=f"Nothing listens on {dead} \\(OIDC_SOCK\\)"):
        OidcAgentSource("infncloud").read()


def test_a_token_without_the_audience_asked_is_said_before_and_after_sending(
    on_path, rgw_sts, settings_for, caplog
):
    """#569: oidc-agent 5 with INDIGO IAM ignores --aud unless in legacy audience mode."""
    caplog.set_level(logging.WARNING)
    fake_oidc_token(on_path, token=make_jwt(aud=None))
    rgw_sts.required_audience = "object"
    settings = settings_for(rgw_sts, oidc_agent_account="infncloud", audience="object")
    del settings["token_file"]
    with pytest.raises(StsError) as raised:
        infnminio_boto.credentials(**settings)
    before = [r.getMessage() for r in caplog.records if "legacy_aud_mode" in r.getMessage()]
    assert before and "--aud object" in before[0]  # said before the token was sent
    assert "legacy_aud_mode" in str(raised.value)  # and in the refusal's advice
    assert "use --aud object" not in str(raised.value)
