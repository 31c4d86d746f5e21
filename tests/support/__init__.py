"""Helpers shared by the test suite and the benchmarks.

* :mod:`.fake_sts` -- a local STS (and tiny S3) for faults a real server cannot produce;
* :mod:`.expiring_proxy` -- a pass-through proxy in front of the sandbox's RGW whose
  credentials expire in seconds;
* :mod:`.jwt_helpers` -- unsigned-looking JWTs and in-place token file writes;
* :mod:`.secret_registry` -- every secret the suite creates, to scan output for them;
* :mod:`.cli` -- running the command line as a user would.

``tests`` is on ``sys.path`` through pytest's ``pythonpath`` setting (pyproject.toml).
"""
