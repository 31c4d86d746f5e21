"""Where the token comes from: the documented order, and who may have planted a file.

The order: an explicit setting (argument or flag over variable; two at one level are an
error), BEARER_TOKEN, BEARER_TOKEN_FILE, $_CONDOR_CREDS, sts-wire's files, then WLCG's
$XDG_RUNTIME_DIR/bt_u<euid> and /tmp/bt_u<euid>. A file nobody named is used only when
it belongs to this user and nobody else can write it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.jwt_helpers import make_jwt, write_in_place

from infnminio_boto.errors import ConfigurationError, TokenSourceError
from infnminio_boto.settings import Settings
from infnminio_boto.sources import select, token_source
from infnminio_boto.sources.discovery import locate, unsafe_reason

EUID = os.geteuid()


@pytest.fixture
def places(tmp_path):
    """Every place of the order, as folders of the test's own (none holds a token yet)."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    condor = tmp_path / "condor"
    for folder in (home, runtime, condor):
        folder.mkdir(mode=0o700)
    return {"home": home, "runtime": runtime, "condor": condor}


def write_token(path, sub: str) -> str:
    write_in_place(str(path), make_jwt(sub=sub) + "\n")
    os.chmod(path, 0o600)
    return str(path)


def subject_found(environ: dict) -> str:
    settings = Settings.resolve(environ=environ)
    return token_source(settings, environ).read().subject


def test_each_place_in_the_documented_order(places, tmp_path):
    home, runtime, condor = places["home"], places["runtime"], places["condor"]
    environ = {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "_CONDOR_CREDS": str(condor),
        "BEARER_TOKEN_FILE": write_token(tmp_path / "named", "bearer-file"),
        "BEARER_TOKEN": make_jwt(sub="bearer-value"),
        "INFNMINIO_TOKEN_FILE": write_token(tmp_path / "explicit", "explicit"),
    }
    write_token(condor / "scitokens.use", "condor")
    write_token(home / ".token", "sts-wire")
    write_token(runtime / f"bt_u{EUID}", "xdg")
    # Each place in turn, taking away the one before it.
    expected = ["explicit", "bearer-value", "bearer-file", "condor", "sts-wire", "xdg"]
    removals = ["INFNMINIO_TOKEN_FILE", "BEARER_TOKEN", "BEARER_TOKEN_FILE", "_CONDOR_CREDS"]
    for subject in expected[:-2]:
        assert subject_found(environ) == subject
        del environ[removals.pop(0)]
    assert subject_found(environ) == "sts-wire"
    os.unlink(home / ".token")
    assert subject_found(environ) == "xdg"


def test_tmp_bt_u_comes_last(monkeypatch, places):
    """Checked with the discovery order itself, on a /tmp file of this test's user."""
    path = f"/tmp/bt_u{EUID}"
    if os.path.lexists(path):
        pytest.skip(f"{path} exists on this machine: not touched by the test suite")
    write_token(path, "tmp")
    try:
        found, tried = locate({"HOME": str(places["home"])})
        assert found == ("file", path, "WLCG's file in /tmp")
        assert (str(places["home"] / ".token"), "no such file") in tried
    finally:
        os.unlink(path)


def test_two_explicit_settings_at_one_level_are_an_error(tmp_path):
    with pytest.raises(ConfigurationError, match="both say where the token comes from"):
        Settings.resolve(token_file="/t", oidc_agent_account="acct", environ={})
    with pytest.raises(ConfigurationError, match="INFNMINIO_TOKEN_COMMAND"):
        Settings.resolve(
            environ={"INFNMINIO_TOKEN_FILE": "/t", "INFNMINIO_TOKEN_COMMAND": "oidc-token x"}
        )
    # an argument beats a variable of another source: no error, the argument wins
    settings = Settings.resolve(
        token_command="oidc-token x", environ={"INFNMINIO_TOKEN_FILE": "/t"}
    )
    assert settings.token.kind == "command" and settings.token.value == ("oidc-token", "x")


def test_several_htcondor_tokens_name_them_and_the_setting(places):
    condor = places["condor"]
    first = write_token(condor / "a.use", "a")
    second = write_token(condor / "b.use", "b")
    environ = {"HOME": str(places["home"]), "_CONDOR_CREDS": str(condor)}
    with pytest.raises(ConfigurationError) as info:
        select(Settings.resolve(environ=environ), environ)
    assert first in str(info.value) and second in str(info.value)
    assert "token_file" in str(info.value)


def test_nothing_found_lists_every_place_tried(places):
    environ = {"HOME": str(places["home"]), "XDG_RUNTIME_DIR": str(places["runtime"])}
    if os.path.lexists("/home/.token") or os.path.lexists(f"/tmp/bt_u{EUID}"):
        pytest.skip("this machine has a token in a place of the order")
    with pytest.raises(TokenSourceError) as info:
        token_source(Settings.resolve(environ=environ), environ)
    message = str(info.value)
    for place in (
        "BEARER_TOKEN",
        "BEARER_TOKEN_FILE",
        "$_CONDOR_CREDS",
        str(places["home"] / ".token"),
        "/home/.token",
        str(places["runtime"] / f"bt_u{EUID}"),
        f"/tmp/bt_u{EUID}",
    ):
        assert place in message, place


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: os.chmod(p, 0o622), "others can write it"),
        (lambda p: os.chmod(p, 0o660), "others can write it"),
        (lambda p: (os.unlink(p), os.mkdir(p)), "not a regular file"),
        (lambda p: (os.unlink(p), os.mkfifo(p)), "not a regular file"),
    ],
)
def test_a_file_nobody_named_must_be_private(places, damage, reason):
    path = write_token(places["home"] / ".token", "mine")
    damage(path)
    assert reason in unsafe_reason(path)


def test_a_file_in_a_folder_others_can_write_is_skipped(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)  # no sticky bit: anyone may replace the file
    path = write_token(folder / ".token", "mine")
    assert "others can replace it" in unsafe_reason(path)
    os.chmod(folder, 0o1777)  # like /tmp
    assert unsafe_reason(path) is None


SECOND_USER = 65534  # nobody


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to plant a file as another user")
def test_a_bt_u_file_planted_by_another_account_is_never_sent(places):
    """Another account plants $XDG_RUNTIME_DIR/bt_u<uid> (here: a sticky folder all may
    write, as /tmp); discovery skips it and says why."""
    import shutil
    import tempfile
    from pathlib import Path

    from support.second_account import require_python_for_nobody

    require_python_for_nobody()

    runtime = Path(tempfile.mkdtemp(prefix="imb-runtime-", dir="/tmp"))
    os.chmod(runtime, 0o1777)
    planted = runtime / f"bt_u{EUID}"
    token = make_jwt(sub="attacker")
    subprocess.run(
        ["setpriv", f"--reuid={SECOND_USER}", f"--regid={SECOND_USER}", "--clear-groups",
         sys.executable, "-I", "-c",
         f"open({str(planted)!r}, 'w').write({token!r})"],
        check=True,
    )
    assert os.stat(planted).st_uid == SECOND_USER
    environ = {"HOME": str(places["home"]), "XDG_RUNTIME_DIR": str(runtime)}
    found, tried = locate(environ)
    shutil.rmtree(runtime)
    assert found is None or found[1] != str(planted)
    assert (str(planted), f"skipped: it belongs to another account (uid {SECOND_USER})") in tried


def test_a_variable_that_names_a_missing_file_is_an_error_not_a_reason_to_look_on(places):
    """WLCG: BEARER_TOKEN_FILE, when set, is the token: its absence must not silently
    send another identity's token found later in the order."""
    write_token(places["home"] / ".token", "sts-wire")
    environ = {"HOME": str(places["home"]), "BEARER_TOKEN_FILE": str(places["home"] / "gone")}
    with pytest.raises(TokenSourceError, match="does not exist"):
        token_source(Settings.resolve(environ=environ), environ).read()


def test_a_home_that_is_a_symlink_is_judged_by_the_folder_it_leads_to(places, tmp_path):
    """$HOME (or $XDG_RUNTIME_DIR, macOS's /tmp) being a link: the check looked at the
    link, whose mode is always 0777, and skipped a private $HOME/.token."""
    write_token(places["home"] / ".token", "linked")
    link = tmp_path / "home-link"
    link.symlink_to(places["home"])
    assert subject_found({"HOME": str(link)}) == "linked"
    os.chmod(places["home"], 0o777)  # the folder it leads to: open to others
    assert "others can replace it" in unsafe_reason(str(link / ".token"))


@pytest.mark.skipif(EUID != 0, reason="needs root to give a link to another account")
def test_a_symlinked_folder_another_account_owns_is_not_trusted(places, tmp_path):
    write_token(places["home"] / ".token", "planted")
    link = tmp_path / "home-link"
    link.symlink_to(places["home"])
    os.lchown(link, 65534, 65534)  # whoever owns the link decides where it points
    assert "belongs to another account" in unsafe_reason(str(link / ".token"))


def test_an_empty_condor_folder_advises_the_submit_file_not_sts_wire(places):
    """Advice follows the place the user is in: a batch job has no sts-wire."""
    environ = {"HOME": str(places["home"]), "_CONDOR_CREDS": str(places["condor"])}
    with pytest.raises(TokenSourceError) as raised:
        token_source(Settings.resolve(environ=environ), environ)
    said = str(raised.value)
    assert "holds no .use file" in said and "use_oauth_services" in said
    assert "sts-wire" not in said
