"""A token command that prints its token and exits, leaving a background child behind."""

# FOUND BY REVIEW

from __future__ import annotations

import stat

from support.jwt_helpers import make_jwt

from infnminio_boto.sources.command import CommandSource


# FOUND BY REVIEW
def test_a_command_that_exits_leaving_a_background_child_gives_its_token(tmp_path):
    """A site helper that starts an agent in the background, then prints the token and
    exits 0: the background child keeps the stdout pipe open, run_bounded reads until
    the deadline and the error says "did not finish within 5 s" though it did, with
    the token printed (measured with the CLI: 30 s, then that error)."""
    token = make_jwt(sub="helper")
    path = tmp_path / "helper.sh"
    path.write_text(f"#!/bin/sh\n(sleep 20) &\necho {token}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    assert CommandSource([str(path)], timeout=5).read().value == token
