# The two commands of the README: `make run` and `make test`. Both share `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: WeasyPrint's pango, HarfBuzz subsetting (fast PDF fonts), CJK fonts,
# the PDF tools the tests check documents with, Chromium for the browser tests, ffmpeg for voice
# messages, and espeak-ng + the AMR-NB encoder library the voice tests make real speech with.
DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils qpdf chromium ffmpeg espeak-ng libopencore-amrnb0

.PHONY: install system-deps run test lint bench clean

install: system-deps $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

system-deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing — run: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

run: install
	$(BIN)/jiahu db upgrade
	@echo "jiahu: try the bot at http://127.0.0.1:$${JIAHU_PORT:-8080}/try  ·  staff console /console  ·  health /healthz"
	$(BIN)/jiahu serve

test: install lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) var .pytest_cache
