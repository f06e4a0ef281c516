# Cognate: the two commands a newcomer needs, plus lint and bench.
#
#   make run    virtualenv + requirements, migrate SQLite, bootstrap the demo, serve on HOST:PORT
#   make test   virtualenv + dev requirements, Debian chromium and gettext when missing,
#               tests/node's npm packages when node is installed, the whole suite
#   make messages / make compilemessages   update the translation catalogs in locale/ from the
#               code and templates / compile them to the .mo files (committed, so that `make
#               run` needs no gettext)
#
# Everything lands in .venv/; stamp files there make the second run skip what is already done.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo runs with DEBUG=1 so the console's dev outbox shows the codes that would be mailed.
DEBUG ?= 1
PUBLIC_URL ?= http://localhost:$(PORT)
# gunicorn processes and threads each (config/gunicorn.py reads these and the other settings).
# Every process sees the same lockout counters and rate limits: Redis with REDIS_URL, otherwise
# the database (config/cache.py).
WORKERS ?= 2
THREADS ?= 4
# Extra pytest arguments, e.g. make test ARGS='-m "not e2e and not clients"'
ARGS ?=
export ARGS
# Parallel test workers (pytest-xdist); XDIST= runs serially. loadgroup keeps the tests marked
# with one xdist_group on one worker (tests/test_scale.py's servers start once).
XDIST ?= -n 2 --dist loadgroup
CHROMIUM ?= /usr/bin/chromium
NPM ?= npm
NODE_DIR := tests/node

SERVE_ENV = DEBUG=$(DEBUG) PUBLIC_URL=$(PUBLIC_URL)

RUN_STAMP := $(VENV)/.stamp-requirements
DEV_STAMP := $(VENV)/.stamp-requirements-dev
# Inside node_modules, so that a fresh `npm ci` (which empties the folder) drops it too.
NODE_STAMP := $(NODE_DIR)/node_modules/.stamp-package-lock
# The bench's node peer (oidc-provider), from its committed lock file.
PEER_DIR := bench/peers/oidc
PEER_STAMP := $(PEER_DIR)/node_modules/.stamp-package-lock

.PHONY: run test lint bench venv chromium gettext xmlsec1 wrk valgrind node-deps migrate static clean \
	messages compilemessages

run: $(RUN_STAMP) xmlsec1 migrate static
	@$(SERVE_ENV) $(BIN)/python manage.py bootstrap
	@echo
	@echo "Serving $(PUBLIC_URL)/ with gunicorn (listening on $(HOST):$(PORT), DEBUG=$(DEBUG))"
	@echo "Open the URLs printed above, on PUBLIC_URL's host. Stop the server with Ctrl-C."
	@echo
	exec env $(SERVE_ENV) BIND=$(HOST):$(PORT) WORKERS=$(WORKERS) THREADS=$(THREADS) \
		$(BIN)/gunicorn -c config/gunicorn.py config.wsgi:application

migrate: $(RUN_STAMP)
	@$(SERVE_ENV) $(BIN)/python manage.py migrate --noinput -v 0

# Static files into STATIC_ROOT (var/staticfiles/), compressed, for whitenoise; without the
# directory whitenoise warns on every request handler it builds (once per test client).
static: $(RUN_STAMP)
	@$(BIN)/python manage.py collectstatic --noinput -v 0

test: $(DEV_STAMP) chromium gettext xmlsec1 wrk valgrind node-deps static
	@set +e; \
	marker=""; \
	if [ ! -x "$(CHROMIUM)" ]; then \
		echo "*** chromium not found at $(CHROMIUM) and could not be installed:" \
		     "skipping the e2e (browser) tests. Install Debian's chromium to run them."; \
		marker='-m "not e2e"'; \
	fi; \
	xdist="$(XDIST)"; \
	if [ -n "$$xdist" ] && ! $(BIN)/python -c "import xdist" 2>/dev/null; then xdist=""; fi; \
	eval "$(BIN)/pytest $$xdist $$marker $$ARGS"; \
	rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "*** pytest collected no tests (exit code 5)"; rc=0; fi; \
	exit $$rc

# Debian's chromium for the Playwright tests (never a downloaded browser), and a Japanese font
# for its screenshots. Installed with apt-get when missing and we are root; otherwise `make test`
# skips the e2e tests and says so.
chromium:
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium with apt-get ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			|| echo "*** apt-get could not install chromium"; \
	fi
	@# A Japanese font, so that the screenshots of the Japanese hosted pages show their text.
	@if [ ! -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] && [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's fonts-ipafont-gothic with apt-get ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			fonts-ipafont-gothic) || echo "*** apt-get could not install fonts-ipafont-gothic"; \
	fi

# GNU gettext (msgfmt, xgettext, msgmerge): the catalog tests (tests/hostedui/test_catalogs.py)
# and `make messages` use it. Installed with apt-get when missing and we are root; otherwise those
# tests skip and say so.
gettext:
	@if ! command -v msgfmt >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's gettext with apt-get ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext) \
			|| echo "*** apt-get could not install gettext"; \
	fi

# The languages of settings.LANGUAGES other than English (their locale/ directory names).
LOCALES := de es fr ja pt_BR
MESSAGES_IGNORE := --ignore='.venv/*' --ignore='tests/*' --ignore='var/*' --ignore='bench/*' \
	--ignore='examples/*' --ignore='scripts/*'

messages: $(RUN_STAMP) gettext
	$(BIN)/python manage.py makemessages --no-location --no-obsolete $(MESSAGES_IGNORE) \
		$(addprefix --locale=,$(LOCALES))

compilemessages: $(RUN_STAMP) gettext
	$(BIN)/python manage.py compilemessages $(MESSAGES_IGNORE)

# xmlsec1, with which pysaml2 signs and verifies SAML messages (SAML identity providers).
# Installed with apt-get when missing and we are root; otherwise SAML sign-in cannot work.
xmlsec1:
	@if ! command -v xmlsec1 >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's xmlsec1 with apt-get ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1) \
			|| echo "*** apt-get could not install xmlsec1"; \
	fi
	@command -v xmlsec1 >/dev/null 2>&1 || echo "*** xmlsec1 not found: SAML sign-in will fail."

# The npm registry's Cognito clients for tests/api/test_js_clients.py and the bench's
# oidc-provider peer, each from its committed lock file, when node and npm are installed
# (without node those tests skip and say so).
node-deps:
	@if command -v node >/dev/null 2>&1 && command -v $(NPM) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(NODE_STAMP) $(PEER_STAMP); \
	else \
		echo "*** node/npm not found: the JavaScript client tests will be skipped."; \
	fi

$(NODE_STAMP): $(NODE_DIR)/package-lock.json $(NODE_DIR)/package.json
	@echo "Installing $(NODE_DIR)/'s npm packages (npm ci) ..."
	$(NPM) ci --prefix $(NODE_DIR) --no-audit --no-fund
	@touch $@

$(PEER_STAMP): $(PEER_DIR)/package-lock.json $(PEER_DIR)/package.json
	@echo "Installing $(PEER_DIR)/'s npm packages (npm ci) ..."
	$(NPM) ci --prefix $(PEER_DIR) --no-audit --no-fund
	@touch $@

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Cognate, its peers and two bare-Django ceilings under wrk (bench/run.py); BENCH_ARGS=--quick for
# a ~4-minute run. wrk is Debian's package, installed with apt-get when missing and we are root.
BENCH_ARGS ?=
bench: $(DEV_STAMP) wrk node-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Debian's wrk, the load generator of `make bench` and tests/bench/ (which skip without it):
# installed with apt-get when missing and we are root.
wrk:
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's wrk with apt-get ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) \
			|| echo "*** apt-get could not install wrk"; \
	fi

# valgrind's callgrind, which counts instructions per request for bench/instructions.py, and
# strace, which counts its system calls (--syscalls; their tests in tests/bench/ skip without
# them): installed as wrk is.
valgrind:
	@if ! (command -v valgrind && command -v strace) >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's valgrind and strace with apt-get ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind strace) \
			|| echo "*** apt-get could not install valgrind and strace"; \
	fi

venv: $(VENV)/bin/python

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Cognate needs Python 3.11+, found " + sys.version' \
		|| (echo "*** set PYTHON=python3.11 (or newer)"; exit 1)
	$(PYTHON) -m venv $(VENV) || ($(PYTHON) -m pip install --user -q virtualenv && $(PYTHON) -m virtualenv $(VENV))

$(RUN_STAMP): requirements.txt | $(VENV)/bin/python
	@echo "Installing requirements.txt into $(VENV)/ ..."
	$(BIN)/pip install -qq -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(VENV)/bin/python
	@echo "Installing requirements-dev.txt into $(VENV)/ ..."
	$(BIN)/pip install -qq -r requirements-dev.txt
	@touch $@ $(RUN_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
