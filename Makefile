# Two commands set everything up on a fresh machine:
#   make build   - create .venv, install pinned dependencies, build source/ into build/
#   make test    - the same setup, then ruff, mypy, the import contracts and the whole pytest suite
# Other targets: make bench (performance report), make clean, make lock (re-pin).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYSDEPS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-dejavu-extra
BROWSER_DEPS := chromium chromium-driver
PYTEST_ARGS ?=

.PHONY: build test lint bench clean lock system-deps browser-deps

build: $(STAMP)
	$(BIN)/exporter build

test: lint browser-deps
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check exporter tests bench
	$(BIN)/ruff format --check exporter tests bench
	$(BIN)/mypy exporter
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py

# WeasyPrint needs Pango; HarfBuzz's subsetter makes font subsetting fast and is the one
# subsetting path we pin for byte-identical PDFs. Installed only when missing (needs root).
system-deps:
	@missing=""; for p in $(SYSDEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The card tests drive headless Chromium (tests/test_cards_browser.py); without apt-get
# they are skipped and say so.
browser-deps:
	@missing=""; for p in $(BROWSER_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "no apt-get: not installing$$missing; the browser tests of the cards will be skipped"; \
	  else \
	    echo "installing system packages:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	fi

# `exporter preview` typesets with the MathJax that Anki ships: the files only, from the
# aqt wheel of the same version as the pinned anki (its Qt dependencies are not needed).
$(STAMP): requirements.lock pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps \
	  "aqt==$$(sed -n 's/^anki==//p' requirements.lock)"
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q --disable-pip-version-check 'setuptools>=70' -e '.[test]'
	{ .lockvenv/bin/pip freeze --exclude-editable | grep -v '^-e'; .lockvenv/bin/pip freeze --all | grep '^setuptools=='; } | sort -f > requirements.lock
	rm -rf .lockvenv

clean:
	rm -rf build/*.apkg build/*.pdf build/.cache build/.manifest.json
