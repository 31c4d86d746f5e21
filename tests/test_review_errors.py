"""Errors that travel between processes keep their words."""

# FOUND BY REVIEW

from __future__ import annotations

import pickle

import pytest

import infnminio_boto.errors as errors


# FOUND BY REVIEW
@pytest.mark.parametrize(
    "error",
    [
        errors.MissingDependencyError("s3fs", "s3"),
        errors.TokenFileError("The token file /x does not exist.", path="/x"),
        errors.StsError("refused", status=403, code="AccessDenied"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_error_raised_in_a_worker_reaches_the_caller_with_its_words(error):
    """A Dask worker or a process pool sends a task's exception back pickled.
    MissingDependencyError (an adapter's library missing on the worker) cannot be
    unpickled (__init__ wants library and extra): a ProcessPoolExecutor then reports
    "BrokenProcessPool: A process in the process pool was terminated abruptly" and
    the pool is broken; the real cause is lost."""
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
