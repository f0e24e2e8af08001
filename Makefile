# Two commands matter: `make run` and `make test`. Everything they need, they install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test fuzz check format browser pango clean peer

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# A stamp per install flavour, remade whenever pyproject.toml changes.
# The app with the camera check (the vision extra); its model files are fetched from the
# mediapipe wheel on the package index and checked by SHA-256, never committed.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[vision,handout]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.run-installed

# A checkout keeps its data in ./var; the installed `limber` command defaults to the per-user
# data folder instead (see the README), so `make run` says where it wants it.
run: export LIMBER_DATA_DIR ?= $(CURDIR)/var
run: $(VENV)/.run-installed pango
	@$(BIN)/limber models || echo "note: the camera check is unavailable until 'limber models' succeeds; everything else works"
	$(BIN)/limber migrate --no-input
	$(BIN)/limber serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; install it when we can (root with apt), otherwise
# those tests skip and say why (CI sets LIMBER_REQUIRE_BROWSER=1 so they cannot skip there).
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "note: /usr/bin/chromium is missing and cannot be installed here; browser tests will skip"

# Handouts (WeasyPrint) draw text with the system's Pango; install it the same way when missing.
pango:
	@ldconfig -p | grep -q libpangoft2-1.0 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 \
	   libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null) ; } || \
	  echo "note: Pango is missing and cannot be installed here; handouts (PDF) will not work"

test: $(VENV)/.test-installed browser pango
	$(BIN)/pytest $(PYTEST_ARGS)

# The API against its own OpenAPI schema: schemathesis, every check, a fixed seed (tests/fuzz).
fuzz: $(VENV)/.test-installed
	$(BIN)/python tests/fuzz/run.py $(FUZZ_ARGS)

check: $(VENV)/.test-installed
	$(BIN)/ruff check limber tests bench
	$(BIN)/ruff format --check limber tests bench
	$(BIN)/mypy

format: $(VENV)/.test-installed
	$(BIN)/ruff check --fix limber tests bench
	$(BIN)/ruff format limber tests bench

# A separate venv with mediapipe's own pipeline, for bench/bench_peer.py only (never imported).
peer: var/peer/bin/python
var/peer/bin/python:
	$(PYTHON) -m venv var/peer
	var/peer/bin/pip install -q mediapipe==0.10.21

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
