# The two commands the README promises: `make serve` and `make test`.
# Both set up what they need (idempotently) and reuse .venv and the model cache.
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup model system-packages serve test lint typecheck pytest bench clean-venv

setup:
	@scripts/bootstrap.sh

model: setup
	@$(BIN)/foresight model prepare

serve: model
	$(BIN)/foresight serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check planner server bench clients tests
	$(BIN)/ruff format --check planner server bench clients tests

typecheck: setup
	$(BIN)/mypy

system-packages:
	@scripts/ensure-system-packages.sh

pytest: model system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean-venv:
	rm -rf $(VENV)
