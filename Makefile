# Minqing: `make run` serves the app, `make test` lints and runs every test, `make bench` measures.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DB_URL  ?= $(MINQING_DATABASE_URL)
PORT    ?= 8501

.PHONY: run test lint bench demo db clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

db: $(STAMP)
	$(BIN)/minqing db upgrade
	$(BIN)/minqing demo --if-absent

run: db
	$(BIN)/streamlit run serve.py --server.port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/map_overview.py
	$(BIN)/python bench/backlog.py
	$(BIN)/python bench/kpi.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/display_soak.py
	$(BIN)/python bench/load.py
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/rebalance.py
	$(BIN)/python bench/access.py

demo: $(STAMP)
	$(BIN)/minqing demo --replace

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache data/*.db data/*.db-*
