"""What help() and a notebook show of the public API never holds a secret.

help() renders every default argument; a notebook cell ending in a helper's result
shows its repr. After ``eval "$(infnminio-boto env)"`` the environment holds a secret
key and a session token, and a job may hold BEARER_TOKEN: none may appear.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PLANTED = {
    "AWS_SECRET_ACCESS_KEY": "plantedsecretkey0123456789abcdefXYZ",
    "AWS_SESSION_TOKEN": "plantedsessiontoken0123456789abcdefXYZ",
    "BEARER_TOKEN": "eyJhbGciOiJSUzI1NiJ9.plantedbearertoken0123456789.c2lnbmF0dXJl",
}

RENDER_ALL = """
import pydoc
import infnminio_boto
import infnminio_boto.sandbox

names = [getattr(infnminio_boto, name) for name in infnminio_boto.__all__]
modules = [infnminio_boto, infnminio_boto.sandbox]
try:  # needs the dask extra, which the core runs of `make range` leave out
    import infnminio_boto.dask
except ImportError:
    pass
else:
    modules.append(infnminio_boto.dask)
for subject in names + modules:
    print(pydoc.render_doc(subject, renderer=pydoc.plaintext))
"""


def test_pydoc_of_every_public_name_shows_no_secret_of_the_environment(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", RENDER_ALL],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **PLANTED},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "= <this process's environment>" in done.stdout  # it is documented...
    for name, value in PLANTED.items():
        assert value not in done.stdout, f"{name} shown by pydoc"  # ...not displayed


@pytest.mark.parametrize(
    "helper",
    ["storage_options", "pyarrow_kwargs", "polars_storage_options", "minio_kwargs"],
)
def test_a_helpers_keywords_show_masked_and_still_work_with_two_stars(
    helper, rgw_sts, settings_for
):
    import infnminio_boto

    call = getattr(infnminio_boto, helper)
    extra = {} if helper in ("storage_options", "minio_kwargs") else {"environ": None}
    keywords = call(**settings_for(rgw_sts), **extra)
    issued = next(iter(rgw_sts.issued.values()))
    shown = repr(keywords) + str(keywords)
    assert issued.secret_key not in shown and issued.session_token not in shown
    assert issued.access_key not in shown and issued.access_key[:4] + "***" in shown
    assert issued.secret_key in dict(**keywords).values()  # ** gives the real values


def test_a_notebook_shows_the_keywords_masked(rgw_sts, settings_for):
    """IPython displays a dict subclass through its own printer unless told otherwise."""
    pretty = pytest.importorskip("IPython.lib.pretty").pretty
    import infnminio_boto

    keywords = infnminio_boto.storage_options(**settings_for(rgw_sts))
    issued = next(iter(rgw_sts.issued.values()))
    assert issued.secret_key not in pretty(keywords) and "***" in pretty(keywords)


def test_copies_and_merges_of_the_keywords_stay_masked(rgw_sts, settings_for):
    import infnminio_boto

    keywords = infnminio_boto.storage_options(**settings_for(rgw_sts))
    issued = next(iter(rgw_sts.issued.values()))
    for derived in (keywords.copy(), keywords | {"anon": False}, {"anon": False} | keywords):
        assert issued.secret_key not in repr(derived) and issued.secret_key in derived.values()


def test_a_token_given_in_code_shows_in_no_repr_and_never_pickles(rgw_sts):
    import pickle

    from support.jwt_helpers import make_jwt

    from infnminio_boto.keys.refresh import refreshing_credentials
    from infnminio_boto.settings import Settings
    from infnminio_boto.sources.value import TextSource

    token = make_jwt()
    refresher = refreshing_credentials(Settings.resolve(endpoint=rgw_sts.url), token=token)
    assert token not in repr(vars(refresher)) and token.split(".")[2] not in repr(vars(refresher))
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(TextSource(token).read())


def test_the_typing_imports_mirror_the_public_table():
    """The names type checkers see are the ones ``_PUBLIC`` serves, from the same modules."""
    import ast
    from pathlib import Path

    import infnminio_boto

    source = Path(infnminio_boto.__file__).read_text()
    block = next(
        node for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    typed = {
        (node.module, alias.name)
        for node in block.body if isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names
    }
    public = {(module, name) for module, names in infnminio_boto._PUBLIC.items() for name in names}
    assert typed == public
