# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=
STAGE ?= dev

.PHONY: help run run-lambda test test-slow bench lint format check requirements package deploy rollback iam-policy infra infra-template infra-lint infra-ci branch-stage ci-lint destroy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Find Python 3.13 without relying on a shell profile: $PYTHON, python3.13 on PATH,
# pyenv's shims (which honour .python-version), then any pyenv-installed 3.13.
$(VENV)/.created:
	@py=""; pyenv_root="$${PYENV_ROOT:-$$HOME/.pyenv}"; \
	for c in "$${PYTHON:-}" python3.13 "$$pyenv_root/shims/python3.13" $$(ls -d "$$pyenv_root"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do \
	  if [ -n "$$c" ] && "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then py="$$c"; break; fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "error: Python 3.13 was not found (tried \$$PYTHON, python3.13 on PATH and pyenv)." >&2; \
	  echo "       Install it (for example 'pyenv install 3.13') or run: make PYTHON=/path/to/python3.13 ..." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$("$$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"; \
	"$$py" -m venv $(VENV)
	@touch $@

$(VENV)/.runtime: requirements.txt $(VENV)/.created
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $@

# The address every absolute link names (canonical, feeds, sitemap, API links, "view on
# site"): HOST and PORT unless SITE_URL is given. The Sites framework follows it on migrate.
RUN_SITE_URL = $(or $(SITE_URL),http://$(HOST):$(PORT))

# runserver, with the minute tick (scheduled go-live and expiry, what the operations
# panel watches) in a loop beside it; stopping the server (Ctrl-C) stops the loop too.
run: $(VENV)/.runtime ## Serve the site on http://$(HOST):$(PORT) with the minute tick (SQLite, local media, demo content)
	export SITE_URL=$(RUN_SITE_URL); \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py seed_demo --admin-url $(RUN_SITE_URL)/admin/ && { \
	  $(PY) manage.py publishing_tick --loop --verbosity 0 & tick=$$!; \
	  trap 'kill $$tick 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	}

run-lambda: $(VENV)/.dev ## Serve through Zappa's Lambda handler, firing STAGE's cron events
	export SITE_URL=$(RUN_SITE_URL); \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py seed_demo --admin-url $(RUN_SITE_URL)/admin/ && \
	$(PY) manage.py serve_lambda --stage $(STAGE) --host $(HOST) --port $(PORT)

test: $(VENV)/.dev ## Run the test suite (SQLite unless DATABASE_URL is set)
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

test-slow: $(VENV)/.dev ## The slow tiers: Lambda package, deploy against moto, browser, database load
	$(BIN)/pytest -m "package or deploy or browser or load" $(PYTEST_ARGS)

bench: $(VENV)/.dev ## Benchmarks against a bare Django project (BENCH_ARGS="--write docs/benchmarks.md")
	$(PY) -m tests.benchmarks.run $(BENCH_ARGS)

package: $(VENV)/.created ## Build the Lambda zip for STAGE (default dev) into .build/
	$(PY) -m cms.lambda_build package $(STAGE)

deploy: $(VENV)/.created ## Build on STAGE's stack outputs, zappa deploy or update, migrate, smoke-test
	$(PY) -m cms.lambda_build deploy $(STAGE) $(if $(FIRST),--first)

rollback: $(VENV)/.runtime ## Send STAGE's traffic back to the version before the live one, and say which
	$(PY) -m infra rollback $(STAGE)

iam-policy: $(VENV)/.created ## Print STAGE's IAM policy (also in .build/iam/STAGE.json)
	$(PY) -m cms.lambda_build iam-policy $(STAGE)

infra-template: $(VENV)/.runtime ## Write STAGE's CloudFormation template(s) to .build/infra/ (no AWS call)
	$(PY) -m infra template $(STAGE)

infra: $(VENV)/.runtime ## Create or update STAGE's stack: change-set preview, then apply
	$(PY) -m infra apply $(STAGE)

destroy: $(VENV)/.runtime ## Remove STAGE: function and stack (media and database kept unless DELETE_DATA=1; a branch stage keeps nothing)
	$(PY) -m infra destroy $(STAGE) $(if $(DELETE_DATA),--delete-data)

infra-lint: $(VENV)/.dev ## cfn-lint and checkov on every stage's template
	$(PY) -m infra.lint

branch-stage: $(VENV)/.created ## Print the stage of BRANCH (a pull request number or git branch; default: the current branch)
	@$(PY) -m infra.config branch-stage "$(or $(BRANCH),$(shell git branch --show-current))"

infra-ci: $(VENV)/.runtime ## Create or update the account's CI stack (GitHub OIDC provider, deploy roles)
	$(PY) -m infra ci-apply

ci-lint: $(VENV)/.dev ## actionlint on .github/workflows (offline)
	$(BIN)/actionlint -no-color

lint: $(VENV)/.dev ## Check style with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev ## Fix style with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.runtime ## Django's system checks, including migrations that were not made
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

requirements: $(VENV)/.dev ## Re-pin requirements*.txt from requirements*.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --no-header -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --no-header -o requirements-dev.txt requirements-dev.in

clean: ## Remove the virtualenv, caches and collected static files (keeps db.sqlite3 and media/)
	rm -rf $(VENV) .build staticfiles .pytest_cache .ruff_cache .pytest_media
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
