# Everything runs inside a project virtualenv (.venv) that the first target creates;
# nothing is installed into the system Python. Ceph, fish and oidc-agent come from Debian.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(CONSTRAINTS) requirements/*.txt | cksum | cut -d' ' -f1)

.PHONY: install system ceph test lint range demo docs bench constraints clean

$(STAMP): pyproject.toml $(CONSTRAINTS) requirements/test.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { sh scripts/apt-install.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	@echo "Installing the package, every extra and the test tools into $(VENV) (log: $(VENV)/install.log)"
	@# The log is shown only when pip fails: setuptools' notes on editable installs
	@# ("BuildBackendWarning ... Please be careful with folders ...") are not the user's to fix.
	@{ $(PY) -m pip install --quiet --upgrade pip \
	  && $(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[all]' -r requirements/test.txt; \
	} > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	$(PY) -m pip check
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

# The Debian packages of the sandbox and the tests (Ceph, fish, oidc-agent, tinyproxy),
# in one apt run.
system:
	@sh scripts/install-system-packages.sh

ceph:
	@sh scripts/install-system-packages.sh ceph

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy infnminio_boto

# The supported range: oldest and newest boto3/botocore, the oldest declared version of
# every dependency (extras too), oldest and newest Python.
range: install
	PY=$(PY) sh scripts/check-supported-range.sh

test: install system lint
	$(PY) -m pytest
	$(MAKE) --no-print-directory range

demo: install system
	$(PY) examples/demo.py

# The documentation site, from the README and docs/, into build/site (strict: a broken
# link or anchor is an error). make test builds it too (tests/test_docs_site.py).
docs: install
	$(VENV)/bin/mkdocs build --strict

# Benchmarks against the alternatives, side by side in one run: a markdown table (also
# saved as JSON) and a PNG chart in benchmarks/results/. BENCH_ARGS=--quick for fewer runs.
# They run from a regular (non-editable) install in .venv-bench, as users have it: an
# editable install's import hook slows `python -c pass` itself.
BENCH_VENV := .venv-bench
bench: ceph
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -c $(CONSTRAINTS) '.[all]' -r requirements/bench.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall .
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

# Re-resolve the newest versions that fit together and record them for CI.
constraints:
	rm -rf .venv-resolve
	$(PYTHON) -m venv .venv-resolve
	.venv-resolve/bin/python -m pip install --quiet -e '.[all]' -r requirements/test.txt -r requirements/bench.txt
	.venv-resolve/bin/python -m pip check
	{ echo "# Versions known to work together, used by 'make' (pip install -c) so that CI resolves"; \
	  echo "# quickly and reproducibly. The package itself stays loose (pyproject.toml)."; \
	  echo "# Regenerate: make constraints"; \
	  .venv-resolve/bin/python -m pip freeze --exclude-editable | grep -v '^infnminio'; } > $(CONSTRAINTS)
	rm -rf .venv-resolve

clean:
	rm -rf $(VENV) $(BENCH_VENV) .venv-range .pytest_cache build dist *.egg-info
