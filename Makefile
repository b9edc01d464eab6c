# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

# `make test` runs the suite in this many processes (pytest-xdist; each has its own test
# database and Redis database), a file's tests together: "auto" is one per core.
TEST_PROCESSES ?= auto

.PHONY: run test probe lint format install migrate demo worker beat web compilemessages

$(PY):
	$(PYTHON) -m venv $(VENV)

# The development set: the runtime requirements and the test tools (requirements-dev.txt
# includes requirements.txt). Reinstall only when either file changes.
# The risk forecast's kernel is compiled once here (numba keeps it beside its source), so
# that test processes and servers load it instead of each compiling it.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	$(PY) -c "from scheduling.risk import warm_up; warm_up()"
	touch $(STAMP)

install: $(STAMP)

run: install
	bin/run

test: install
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
	  echo "make test: the browser tests need Debian's Chromium and CJK fonts;"; \
	  echo "           install them with: sudo apt-get install -y chromium fonts-noto-cjk"; \
	  echo "           (without them those tests are skipped; CI installs them and requires them)"; \
	fi
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# The security review's findings replayed over HTTP against a live server (also in `make test`).
probe: install
	$(PY) -m pytest tests/security -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install
	$(PY) manage.py migrate --noinput

demo: install
	$(PY) manage.py seed_demo

compilemessages: install
	$(PY) manage.py compilemessages --ignore=.venv
