# Plateau: `make run` serves the site with everything embedded; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 12111
# Services used by the second half of `make test` and by CI when they are reachable.
PG_URL ?= postgres://postgres@127.0.0.1:5432/plateau
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test install check bench browser pgclient clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium for browser tests, from Debian's packages (Playwright drives it).
browser:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "chromium could not be installed: browser tests will be skipped"; \
	else echo "chromium not installed and no root: browser tests will be skipped"; fi

# The Stripe sandbox (billing/sandbox) runs beside the site while STRIPE_API_BASE points at it,
# which is the default; with real Stripe configured (STRIPE_API_BASE= and real keys) it is not
# started. It stops when runserver does.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	@api_base=$$($(PY) manage.py shell -v 0 -c "from django.conf import settings; print(settings.STRIPE_API_BASE)"); \
	if [ "$$api_base" = "http://127.0.0.1:$(SANDBOX_PORT)" ]; then \
	  $(PY) manage.py stripe_sandbox --port $(SANDBOX_PORT) & sandbox=$$!; \
	  trap 'kill $$sandbox 2>/dev/null' EXIT; \
	  $(PY) manage.py stripe_webhooks_setup --base-url http://$(HOST):$(PORT) --wait 15 || exit 1; \
	  $(PY) manage.py billing_setup || exit 1; \
	else echo "Stripe API: $${api_base:-api.stripe.com} (the sandbox is not started)"; fi; \
	$(PY) manage.py seed_demo && $(PY) manage.py runserver $(HOST):$(PORT)

# pg_dump/pg_restore for backups (common/services/backups.py), from Debian's packages.
pgclient:
	@if command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's postgresql-client for backups"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null) \
	    || echo "postgresql-client could not be installed: PostgreSQL backup tests will fail"; \
	else echo "pg_dump not installed and no root: apt-get install postgresql-client"; fi

test: $(STAMP) browser pgclient
	$(PY) -m pytest
	@if $(PY) -c "import socket; [socket.create_connection(('127.0.0.1', p), 1).close() for p in (5432, 6379)]" 2>/dev/null; then \
	  echo "== PostgreSQL and Redis are reachable: running the services tests against them =="; \
	  DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) CELERY_BROKER_URL=$(REDIS_TEST_URL) \
	    $(PY) -m pytest -m services || [ $$? -eq 5 ]; \
	else echo "== PostgreSQL or Redis not reachable on 127.0.0.1: services tests were skipped (reasons above) =="; fi

check: $(STAMP)
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint Dockerfile

# wrk drives the load, from Debian's packages.
bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "wrk is needed: apt-get install wrk"; exit 1; }
	$(PY) bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 .sandbox staticfiles
