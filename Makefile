# The two commands the README promises: `make serve` and `make test` (and `make test-fast`).
# Both set up what they need (idempotently) and reuse .venv and the model cache.
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup model system-packages serve test test-fast lint typecheck pytest bench clean-venv

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

# The 30 slowest tests are listed at the end, so a CI log shows where the suite's time goes.
pytest: model system-packages
	$(BIN)/python -m pytest --durations=30 $(PYTEST_ARGS)

test: lint typecheck pytest

# Every test that does not need the real vLLM engine (the HTTP layer runs in-process on a
# synthetic engine); `make test` runs these and the engine's end-to-end suite.
test-fast: model system-packages
	$(BIN)/python -m pytest -m "not engine" $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
