# CineStudio — `make run` sets up .venv on first use and opens the app on the demo workspace;
# `make test` runs the test suite headless.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := workspaces/demo

.PHONY: install run demo test lint screenshot bench clean-demo

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m cinestudio --workspace $(DEMO) demo

run: demo
	$(PY) main.py --workspace $(DEMO)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/lint-imports

screenshot: demo
	QT_QPA_PLATFORM=offscreen $(PY) main.py --workspace $(DEMO) --screenshot docs/annotate.png --tab annotate

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-demo:
	rm -rf $(DEMO)
