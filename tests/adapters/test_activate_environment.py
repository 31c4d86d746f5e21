"""activate() and the variables the user sets afterwards: only what is still ours is
restored (the fake STS; the libraries against the sandbox: test_activate.py)."""

from __future__ import annotations

import json
import subprocess
import sys

AFTERWARDS = r"""
import json, os
import infnminio_boto
infnminio_boto.activate(libraries=["pyarrow"])
ours = os.environ["AWS_PROFILE"]
os.environ["AWS_PROFILE"] = "theirs"  # the user's own choice, after activate()
second = infnminio_boto.activate(libraries=["pyarrow"])
after_second = os.environ.get("AWS_PROFILE")
infnminio_boto.deactivate()
print(json.dumps({"ours": ours, "after second": after_second,
                  "after deactivate": os.environ.get("AWS_PROFILE"),
                  "second left alone": second.left_alone}))
"""


def test_a_profile_the_user_set_after_activate_is_kept(cli_env, tmp_path):
    env = dict(cli_env, AWS_CONFIG_FILE=str(tmp_path / "aws-config"))
    done = subprocess.run([sys.executable, "-c", AFTERWARDS], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["ours"] == "infnminio-boto"
    assert results["after second"] == "theirs" and results["after deactivate"] == "theirs"
    assert "AWS_PROFILE=theirs" in results["second left alone"]["pyarrow"]
