VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3
PORT   ?= 4567
# make host's intake port: PORT when the environment sets it, else 4580.
HOST_PORT := $(if $(filter environment%,$(origin PORT)),$(PORT),4580)

.PHONY: serve host test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho start web

# The integration host: the intake on PORT (4580) and one worker, AHA_SERVICES_CONFIG
# and AHA_SERVICES_DATA taken from the environment.
host: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(HOST_PORT) $(BIN)/honcho start host worker

test: lint
	$(BIN)/pytest --cov --cov-report=term-missing:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV)
