# The two promises of the README: `make run` and `make test`, on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BUN_VERSION := 1.4.5
BUN := .tools/node_modules/.bin/bun

export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
# Skips Reflex's slow registry probe; the machine's npm knows its registry.
export NPM_CONFIG_REGISTRY ?= $(shell npm config get registry 2>/dev/null)

.PHONY: run test setup chromium lint bench clean

run: setup
	$(PY) -m scripts.run

test: setup chromium
	$(PY) -m pytest

setup: $(VENV)/.installed $(BUN)

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(BUN):
	npm install --prefix .tools --no-save --no-audit --no-fund bun@$(BUN_VERSION)
	$(BUN) --version

chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
	  echo "Installing Debian's Chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

lint: setup
	$(VENV)/bin/ruff format --check . && $(VENV)/bin/ruff check .

bench: setup
	$(PY) -m bench.run

clean:
	rm -rf .web .states var
