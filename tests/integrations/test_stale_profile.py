"""A stale AWS_PROFILE (left by other tooling, naming a profile no file holds): our entry
points do not depend on it, and say once that the AWS tools would fail on it."""

from __future__ import annotations

import logging

import pytest
from support.cli import run_cli

import infnminio_boto


def test_session_and_s3fs_work_and_say_why_the_profile_is_ignored(
    rgw_sts, settings_for, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("AWS_PROFILE", "left-by-other-tooling")
    settings = settings_for(rgw_sts)
    s3 = infnminio_boto.session(**settings).client("s3")
    assert s3.list_buckets()["Buckets"][0]["Name"] == "data"  # was ProfileNotFound
    pytest.importorskip("s3fs", reason="the fsspec extra, not in the core runs of `make range`")
    fs = infnminio_boto.s3fs_filesystem(**settings)
    assert fs.ls("") == ["data"]
    said = [r.getMessage() for r in caplog.records if "left-by-other-tooling" in r.getMessage()]
    assert len(said) == 1 and "no AWS config file holds" in said[0] and "Unset it" in said[0]


def test_doctor_reports_it_as_a_finding(cli_env):
    done = run_cli("doctor", env=dict(cli_env, AWS_PROFILE="left-by-other-tooling"))
    assert done.returncode == 0, done.stdout + done.stderr  # was 1, "internal error"
    assert "WARN  aws profile  AWS_PROFILE=left-by-other-tooling" in done.stdout
    assert "OK    s3" in done.stdout
