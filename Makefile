# Everything runs inside a project virtualenv (.venv) that the first target creates;
# nothing is installed into the system Python. Ceph comes from Debian's packages.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install ceph test lint demo clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { sh scripts/apt-install.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
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

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
