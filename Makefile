# civictracker: `make demo` runs the product on the embedded default; `make test` runs every check.
.PHONY: demo test lock lint typecheck imports pytest bootstrap-run bootstrap-test bench eval clean triage-model risk-model

VENV := .venv/bin
export CIVICTRACKER_INSTANCE_PATH ?= $(CURDIR)/instance

# `make demo PORT=8080 HOST=0.0.0.0`: reply links follow the port unless CIVICTRACKER_PUBLIC_URL is set.
PORT ?= 5000
HOST ?= 127.0.0.1
demo: bootstrap-run
	$(VENV)/flask --app wsgi civictracker demo --host $(HOST) --port $(PORT)

test: bootstrap-test lint typecheck imports pytest

# Recompile the lock files from pyproject.toml (+ requirements-build.in), keeping every pin that still
# fits: run after editing the dependencies. `make lock UPGRADE=1` moves every pin to the newest release,
# `make lock UPGRADE=pkg` one package. Commit the lock files; both bootstraps install only from them.
UPGRADE ?=
LOCK_FLAGS := --universal --generate-hashes --python-version 3.11 --custom-compile-command "make lock" -q \
	$(if $(filter 1,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE)))
lock:
	$(VENV)/uv pip compile pyproject.toml requirements-build.in $(LOCK_FLAGS) -o requirements.lock
	$(VENV)/uv pip compile pyproject.toml requirements-build.in --extra dev $(LOCK_FLAGS) -o requirements-dev.lock

bootstrap-run:
	@bash scripts/bootstrap.sh run

bootstrap-test:
	@bash scripts/bootstrap.sh test

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck:
	$(VENV)/mypy civictracker

imports:
	$(VENV)/lint-imports

pytest:
	$(VENV)/pytest -q -p no:cacheprovider -n 2 --dist loadgroup

# The only place the triage model is fitted: run after changing its training data or fitting code.
triage-model:
	$(VENV)/python scripts/train_triage.py --build

# The only place the risk (anger/abuse/danger) model is fitted: after changing its training files.
risk-model:
	$(VENV)/python -m civictracker.triage.risk_fit --build

bench:
	@for f in bench/bench_*.py; do echo "== $$f"; $(VENV)/python $$f; done

eval:
	@for f in bench/eval_*.py; do echo "== $$f"; $(VENV)/python $$f; done

clean:
	rm -rf instance .pytest_cache .mypy_cache .ruff_cache test-artifacts
