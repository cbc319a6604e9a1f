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
	# pip compiles the libraries it installs; this does the same for our own sources, so
	# that a proxy started where PYTHONDONTWRITEBYTECODE is set does not compile them anew.
	$(BIN)/python -m compileall -q services proxy console
	touch $(STAMP)

# The Procfile's web process, run in place of this shell (no supervisor process, no
# pipe in between: gunicorn gets the terminal and Ctrl-C itself). gunicorn reads .env
# (proxy/gunicorn_conf.py). The line starts the console (127.0.0.1:CONSOLE_PORT, 4568)
# beside the proxy, then execs gunicorn. `honcho start web` runs the same line.
serve: $(STAMP)
	@export PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT); \
	while IFS= read -r line; do \
	  case "$$line" in web:*) echo "web: $${line#web:}"; eval "$${line#web:}";; esac; \
	done < Procfile; echo "Procfile has no web process" >&2; exit 2

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
