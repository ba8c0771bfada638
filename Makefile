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
	@echo "The CLI is $(BIN)/exporter: run '. $(BIN)/activate' to call it as 'exporter'."

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
# subsetting path we pin for byte-identical PDFs. With apt (Debian/Ubuntu, CI) they are
# installed when missing (needs root or sudo); elsewhere make says what is missing and
# the command that installs it, and stops.
SYSLIBS := pango-1.0 pangoft2-1.0 harfbuzz-subset
INSTALL_HINT := \
  "  Debian/Ubuntu: sudo apt-get install $(SYSDEPS)" \
  "  Fedora:        sudo dnf install pango harfbuzz dejavu-sans-fonts dejavu-serif-fonts dejavu-sans-mono-fonts" \
  "  macOS:         brew install pango harfbuzz && brew install --cask font-dejavu"

system-deps:
	@if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(SYSDEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing system packages:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	else \
	  missing=$$($(PYTHON) -c 'import ctypes.util, sys; print(" ".join(n for n in sys.argv[1:] if not ctypes.util.find_library(n)))' $(SYSLIBS)); \
	  if ! fc-list 2>/dev/null | grep -qi dejavu; then missing="$$missing DejaVu-fonts"; fi; \
	  if [ -n "$$missing" ]; then \
	    echo "missing system libraries:$$missing (WeasyPrint needs Pango and HarfBuzz; the PDFs use DejaVu fonts)"; \
	    echo "install them with:"; for line in $(INSTALL_HINT); do echo "$$line"; done; \
	    echo "then run make again."; exit 1; \
	  fi; \
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
	.lockvenv/bin/pip install -q --disable-pip-version-check 'hatchling>=1.25' -e '.[test]'
	{ .lockvenv/bin/pip freeze --exclude-editable | grep -v '^-e'; .lockvenv/bin/pip freeze --all | grep '^setuptools=='; } | sort -f > requirements.lock
	rm -rf .lockvenv

clean:
	rm -rf build/*.apkg build/*.pdf build/.cache build/.manifest.json
