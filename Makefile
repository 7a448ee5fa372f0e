# miliacheck: `make run` serves the app, `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: accuracy install run test lint typecheck bench soak crash kb-check eval clean browser-deps pdf-deps lighthouse

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/miliacheck serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: install
	$(BIN)/mypy

kb-check: install
	$(BIN)/miliacheck kb check

# Debian's Chromium (apt, when root) and axe-core (npm) for the browser tests.
browser-deps:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium is not installed and we are not root: the browser tests will be skipped"
	@[ -f tests/browser/node_modules/axe-core/axe.min.js ] || \
	  (cd tests/browser && npm ci --no-audit --no-fund --silent) || \
	  echo "npm could not install axe-core: the browser tests will be skipped"

# WeasyPrint (consultation summaries as PDF) from version 70 warns, and will later
# require, HarfBuzz's subsetting library: Debian's package, when root.
pdf-deps:
	@ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || { [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq libharfbuzz-subset0 >/dev/null; } || \
	  echo "libharfbuzz-subset0 is not installed and we are not root: PDFs still work"

# The whole suite on SQLite, then the whole suite again on a real PostgreSQL
# server on loopback (scripts/postgres.sh installs and starts it when root, as in CI).
test: install lint typecheck kb-check browser-deps pdf-deps
	$(BIN)/python -m pytest
	@url=$$(bash scripts/postgres.sh); rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "PostgreSQL pass skipped: no server here and not root to install one"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; \
	else echo "== the suite again on PostgreSQL"; \
	  MILIACHECK_TEST_DATABASE_URL=$$url $(BIN)/python -m pytest; fi

eval: install
	$(BIN)/miliacheck eval ../shared/vignettes/dev.jsonl --mode full
	$(BIN)/miliacheck eval ../shared/vignettes/dev.jsonl --mode interview
	$(BIN)/miliacheck eval tests/data/vignettes/project.jsonl --mode full
	$(BIN)/miliacheck eval tests/data/vignettes/project.jsonl --mode interview
	$(BIN)/miliacheck eval tests/data/vignettes/heldout.jsonl --mode full
	$(BIN)/miliacheck eval tests/data/vignettes/heldout.jsonl --mode interview
	$(BIN)/miliacheck eval tests/data/vignettes/literature.jsonl --mode full
	$(BIN)/miliacheck eval tests/data/vignettes/literature.jsonl --mode interview

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python benchmarks/run.py

# Re-score the vignettes only (they do not depend on the machine); keeps the speed rows.
accuracy: install
	$(BIN)/python benchmarks/run.py --accuracy

# Ten minutes (SOAK_SECONDS) of concurrent interviews and consultation requests at a
# sustainable rate: 0 errors, server memory < 10 % above the first minute's, every
# acknowledged write checked (benchmarks/soak.json); on SQLite, then on PostgreSQL.
soak: install
	$(BIN)/python tools/soak.py
	@url=$$(bash scripts/postgres.sh); rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "PostgreSQL soak skipped: no server here and not root to install one"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; \
	else $(BIN)/python tools/soak.py --postgres $$url; fi

# kill -9 the server 10 times while it writes under load, restart it each time and check
# every acknowledged write is there and whole; on SQLite, then on PostgreSQL.
crash: install
	$(BIN)/python tools/crash.py
	@url=$$(bash scripts/postgres.sh); rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "PostgreSQL crash run skipped: no server here and not root to install one"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; \
	else $(BIN)/python tools/crash.py --postgres $$url; fi

# Lighthouse's four scores (npm lighthouse 12 on Node 20, Debian's chromium).
lighthouse: install browser-deps
	cd tools/lighthouse && ([ -x node_modules/.bin/lighthouse ] || npm ci --no-audit --no-fund --silent)
	$(BIN)/python tools/lighthouse/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
