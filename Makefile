# civictracker: `make demo` runs the product on the embedded default; `make test` runs every check.
.PHONY: demo test lint typecheck imports pytest bootstrap-run bootstrap-test bench eval clean triage-model

VENV := .venv/bin
export CIVICTRACKER_INSTANCE_PATH ?= $(CURDIR)/instance

demo: bootstrap-run
	$(VENV)/flask --app wsgi civictracker demo

test: bootstrap-test lint typecheck imports pytest

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

bench:
	@for f in bench/bench_*.py; do echo "== $$f"; $(VENV)/python $$f; done

eval:
	@for f in bench/eval_*.py; do echo "== $$f"; $(VENV)/python $$f; done

clean:
	rm -rf instance .pytest_cache .mypy_cache .ruff_cache test-artifacts
