# careplan — two commands: `make run` and `make test` (README.md).
# Python 3.11 or newer: python3.11 if it is on PATH, else python3.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DEV_ENV := DEBUG=1
PROD_CHECK_ENV := CAREPLAN_ENV=production SECRET_KEY=check-deploy-$(shell printf '%060d' 0) ALLOWED_HOSTS=careplan.example.org DATABASE_URL=sqlite:///:memory: CAREPLAN_MFA_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

.PHONY: run test lint venv migrate demo totp messages bench e2e clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

# Compiles locale/*/LC_MESSAGES/django.po to .mo (built here, not committed; run, test and
# e2e depend on it). New strings: DEBUG=1 manage.py makemessages -l sv -l en --no-obsolete
# --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=test-artifacts.
messages: venv
	@mkdir -p locale
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0

migrate: venv
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input -v0

demo: migrate messages
	$(DEV_ENV) $(BIN)/python manage.py seed_demo

# The local test IdP (manage.py dev_idp, development only) serves beside the app, so the
# login page shows "Log in with BankID (test)" and "SITHS (test)" (README, "Log in with e-ID").
DEV_IDP_PORT ?= 8001
run: demo
	$(DEV_ENV) $(BIN)/python manage.py dev_idp --port $(DEV_IDP_PORT) & idp=$$!; \
	trap 'kill $$idp' EXIT INT TERM; \
	$(DEV_ENV) CAREPLAN_DEV_IDP_URL=http://127.0.0.1:$(DEV_IDP_PORT) $(BIN)/python manage.py runserver 127.0.0.1:8000

# The demo nurse's current two-factor code (a second terminal while `make run` serves);
# another demo account: make totp EMAIL=lungsjukskoterska@demo.careplan.test
totp: venv
	$(DEV_ENV) $(BIN)/python manage.py demo_totp $(if $(EMAIL),--email $(EMAIL))

# Honours DATABASE_URL and REDIS_URL (CI: PostgreSQL and a real Redis with a Celery worker).
test: venv messages
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests alone (headless Debian chromium; `make test` runs them too).
e2e: venv messages
	$(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEV_ENV) $(BIN)/mypy
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(PROD_CHECK_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

# Figures, not a test: the pages over HTTP (gunicorn, 2 sync workers, wrk) beside a
# bare-Django baseline (README.md, Benchmark). Real ones from PostgreSQL:
# createdb -h 127.0.0.1 -U postgres careplan_bench;
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/careplan_bench make bench \
#   BENCH_ARGS="--patients 100000 --sample 200 --seconds 5 --rounds 3"
bench: migrate
	$(DEV_ENV) $(BIN)/python manage.py bench --http $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 .cache staticfiles
