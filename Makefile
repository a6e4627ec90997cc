# drydock: two commands matter. `make demo` and `make test` each set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test soak lint bench dist clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/drydock demo

test: $(STAMP)
	bash .ci/setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup

soak: $(STAMP)  # the fuzz tests with many more examples, the kill points of a larger apply
	DRYDOCK_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -n 2 -k fuzz tests
	DRYDOCK_KILL_SOAK=1 $(BIN)/python -m pytest tests/integration/test_kill_points.py -s

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)  # make bench [QUICK=1]: installs Puppet/Ansible when missing, one table
	$(BIN)/python -m pip install --quiet matplotlib ansible-core
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

dist: $(STAMP)  # the release: sdist, the wheel built from it, and their SHA256SUMS
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	cd dist && sha256sum *.whl *.tar.gz > SHA256SUMS

clean:
	rm -rf $(VENV) .drydock .pytest_cache
