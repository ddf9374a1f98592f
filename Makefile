# PanelRelay — two commands for a newcomer:  make run   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format demo bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## run: web (http://127.0.0.1:8000) and a worker on SQLite; Ctrl-C stops both
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py serve

## test: the whole suite (SQLite, or PostgreSQL when DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

## demo: the product wired to loopback fakes of a panel, Telegram and WhatsApp (login printed)
demo: $(STAMP)
	DATA_DIR=$${DATA_DIR:-data/demo} $(BIN)/python manage.py demo

## bench: forwarding vs a naive forwarder, per phase (SQLite, PostgreSQL), workers scaling, ticket
## latency → docs/BENCHMARKS.md. PostgreSQL runs need BENCH_DATABASE_URL (a database is created there)
bench: $(STAMP)
	$(BIN)/python -m bench.forwarding
	$(BIN)/python -m bench.phases
	$(BIN)/python -m bench.scaling
	$(BIN)/python -m bench.tickets
	$(BIN)/python -m bench.watch
	$(BIN)/python -m bench.answers
	$(BIN)/python -m bench.pages --write docs/BENCHMARKS.md  # ~3 min: seeds 1,001,000 orders on PostgreSQL (BENCH_DATABASE_URL)

## lint: ruff, and lint-imports for the layers of docs/ARCHITECTURE.md (contracts in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy panelrelay

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
