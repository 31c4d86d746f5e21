# Everything runs inside a project virtualenv (.venv) that the first target creates;
# nothing is installed into the system Python. Ceph comes from Debian's packages.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(CONSTRAINTS) | cksum | cut -d' ' -f1)

.PHONY: install ceph test lint demo bench constraints clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { sh scripts/apt-install.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	$(PY) -m pip check
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

ceph:
	@sh scripts/install-ceph.sh

lint: install
	$(VENV)/bin/ruff check .

test: install ceph lint
	$(PY) -m pytest

demo: install ceph
	$(PY) examples/demo.py

# Benchmarks against the alternatives, side by side in one run: a markdown table (also
# saved as JSON) and a PNG chart in benchmarks/results/. BENCH_ARGS=--quick for fewer runs.
bench: install ceph
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# Re-resolve the newest versions that fit together and record them for CI.
constraints:
	rm -rf .venv-resolve
	$(PYTHON) -m venv .venv-resolve
	.venv-resolve/bin/python -m pip install --quiet -e '.[test]'
	.venv-resolve/bin/python -m pip check
	{ echo "# Versions known to work together, used by 'make' (pip install -c) so that CI resolves"; \
	  echo "# quickly and reproducibly. The package itself stays loose (pyproject.toml)."; \
	  echo "# Regenerate: make constraints"; \
	  .venv-resolve/bin/python -m pip freeze --exclude-editable | grep -v '^infnminio'; } > $(CONSTRAINTS)
	rm -rf .venv-resolve

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
